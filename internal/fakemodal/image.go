package fakemodal

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"

	"github.com/commitbench/commitbench/internal/registry"
	"github.com/commitbench/commitbench/internal/standin"
)

// image is a pulled registry image.
type image struct {
	id     string
	ref    string
	env    []string // the image config's ENV
	config []byte   // the stand-in's standin.json, if the image has one
}

type volume struct {
	id, name, dir string
}

// ImageGetOrCreate "builds" FROM <ref> the way Modal does for
// Images.FromRegistry: it pulls the image from its registry, with the
// credentials of the registry secret when one is given. A pull that fails
// is a FAILURE result carrying the registry's error, as Modal reports it.
func (s *Server) ImageGetOrCreate(ctx context.Context, req *pb.ImageGetOrCreateRequest) (*pb.ImageGetOrCreateResponse, error) {
	img := req.GetImage()
	cmds := img.GetDockerfileCommands()
	if len(cmds) == 0 || !strings.HasPrefix(cmds[0], "FROM ") {
		return nil, fmt.Errorf("fakemodal: only FROM <registry ref> images are supported, got %q", cmds)
	}
	ref := strings.TrimSpace(strings.TrimPrefix(cmds[0], "FROM "))
	auth := authn.Anonymous
	if rc := img.GetImageRegistryConfig(); rc.GetRegistryAuthType() == pb.RegistryAuthType_REGISTRY_AUTH_TYPE_STATIC_CREDS {
		creds := s.Secret(rc.GetSecretId())
		if creds == nil {
			return nil, fmt.Errorf("fakemodal: registry secret %s not found", rc.GetSecretId())
		}
		auth = &authn.Basic{Username: creds["REGISTRY_USERNAME"], Password: creds["REGISTRY_PASSWORD"]}
	}
	id := s.nextID("im")
	pulled, err := pull(ctx, ref, auth)
	if err != nil {
		return pb.ImageGetOrCreateResponse_builder{ImageId: id, Result: pb.GenericResult_builder{
			Status: pb.GenericResult_GENERIC_STATUS_FAILURE, Exception: fmt.Sprintf("Failed to pull image %s: %v", ref, err)}.Build()}.Build(), nil
	}
	pulled.id, pulled.ref = id, ref
	s.mu.Lock()
	s.images[id] = pulled
	s.mu.Unlock()
	return pb.ImageGetOrCreateResponse_builder{ImageId: id, Result: pb.GenericResult_builder{Status: pb.GenericResult_GENERIC_STATUS_SUCCESS}.Build()}.Build(), nil
}

func pull(ctx context.Context, ref string, auth authn.Authenticator) (*image, error) {
	r, err := registry.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuth(auth))
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	out := &image{env: cf.Config.Env}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		data, err := fileInLayer(l, strings.TrimPrefix(standin.ConfigPath, "/"))
		if err != nil {
			return nil, err
		}
		if data != nil {
			out.config = data
		}
	}
	return out, nil
}

func fileInLayer(l v1.Layer, path string) ([]byte, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/") == path {
			return io.ReadAll(tr)
		}
	}
}

// PushStandin pushes a stand-in variant image to ref (a registry on
// 127.0.0.1 in tests): one layer holding cfg as standin.json, the labels
// build-image would set, and the stand-in image's environment. It returns
// ref pinned to the pushed digest, as build-image outputs it.
func PushStandin(ctx context.Context, ref string, auth registry.Auth, cfg standin.Config, labels map[string]string) (string, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	layer, err := crane.Layer(map[string][]byte{strings.TrimPrefix(standin.ConfigPath, "/"): js})
	if err != nil {
		return "", err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return "", err
	}
	img, err = mutate.Config(img, v1.Config{Labels: labels, Env: []string{"PATH=/usr/bin", "HOME=/root"}})
	if err != nil {
		return "", err
	}
	digest, err := registry.New(auth).Write(ctx, ref, img)
	if err != nil {
		return "", err
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	return r.Context().Name() + ":" + r.Identifier() + "@" + digest, nil
}
