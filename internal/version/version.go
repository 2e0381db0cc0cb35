// Package version is the toolkit's version, stamped into release binaries
// with -ldflags and recorded in every result and dataset row, so a number can
// always be traced to the code that measured it.
package version

// Version is set at build time; "dev" for builds from a work tree.
var Version = "dev"
