// Package image decides what a variant's image is made of, before anything
// is built: the exact pins of the commit's era (torch, CUDA, flashinfer,
// vllm, sgl-kernel) read from the variant's own tree, the Dockerfiles
// rendered from embedded templates (a shared base keyed by content, and a
// variant layer holding only the Python tree), the tags and the labels.
// BaseKeys computes the same keys from a local clone for plan, so that it
// can say how many kernel builds a set of cases needs. docs/build-image.md.
package image
