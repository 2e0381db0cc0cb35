// Package registry is what build-image asks of an image registry without a
// Docker daemon: does a tag exist and with which labels (a HEAD of the
// manifest and one small config blob, never a layer), and, for the save
// push method, the upload of an image exported from the daemon. Transient
// failures (5xx, 429, timeouts, resets) are retried with backoff.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Auth is a registry login; the zero value is anonymous.
type Auth struct {
	Username string
	Password string
}

// Client talks to registries with one login.
type Client struct {
	auth    Auth
	backoff remote.Backoff
}

// Backoff is the retry schedule of every request: 5 tries, 1 s then 3x,
// capped at 30 s (about a minute in all), enough for a registry that hiccups
// without hiding one that is down.
var Backoff = remote.Backoff{Duration: time.Second, Factor: 3, Jitter: 0.1, Steps: 5, Cap: 30 * time.Second}

// New returns a client that logs in with auth.
func New(auth Auth) *Client { return &Client{auth: auth, backoff: Backoff} }

// WithBackoff returns a copy of c with another retry schedule (tests).
func (c *Client) WithBackoff(b remote.Backoff) *Client {
	d := *c
	d.backoff = b
	return &d
}

func (c *Client) options(ctx context.Context) []remote.Option {
	var a authn.Authenticator = authn.Anonymous
	if c.auth.Username != "" || c.auth.Password != "" {
		a = &authn.Basic{Username: c.auth.Username, Password: c.auth.Password}
	}
	return []remote.Option{
		remote.WithContext(ctx), remote.WithAuth(a), remote.WithRetryBackoff(c.backoff),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
			http.StatusGatewayTimeout),
	}
}

// ParseRef validates an image reference. Registries on localhost and
// 127.0.0.1 are spoken to over plain HTTP, as Docker does by default.
func ParseRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %v", ref, err)
	}
	return r, nil
}

// Image is what the registry says about a tag.
type Image struct {
	// Ref is repository:tag; Digest the manifest digest ("sha256:...").
	Ref    string
	Digest string
	Labels map[string]string
}

// Pinned is the reference with its digest: repository:tag@sha256:...,
// which run-bench pulls so that a re-pushed tag cannot swap the image.
func (i *Image) Pinned() string { return i.Ref + "@" + i.Digest }

// Lookup returns the tag's digest and labels, or nil when the tag does not
// exist. It reads the manifest and the config blob, no layer.
func (c *Client) Lookup(ctx context.Context, ref string) (*Image, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Head(r, c.options(ctx)...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", ref, err)
	}
	img, err := remote.Image(r, c.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	return &Image{Ref: r.Name(), Digest: desc.Digest.String(), Labels: cf.Config.Labels}, nil
}

// isNotFound: a missing tag (404) or, on some registries, a missing
// repository reported as NAME_UNKNOWN / MANIFEST_UNKNOWN.
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// Write uploads img as ref (blobs the registry already has are skipped)
// and returns the manifest digest.
func (c *Client) Write(ctx context.Context, ref string, img v1.Image) (string, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return "", err
	}
	if err := remote.Write(r, img, c.options(ctx)...); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// Host returns the registry host of a repository path
// ("ghcr.io/o/sglang-bench" -> "ghcr.io"; "o/x" -> Docker Hub).
func Host(repo string) string {
	r, err := name.NewRepository(repo)
	if err != nil {
		return strings.SplitN(repo, "/", 2)[0]
	}
	return r.RegistryStr()
}

// IsTransient reports whether a push or pull error from the Docker daemon
// is worth retrying: a 5xx or 429 from the registry, a timeout, a reset
// connection. Authentication and "not found" errors are not.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	for _, m := range []string{
		"500 internal server error", "502 bad gateway", "503 service unavailable", "504 gateway timeout",
		"429 too many requests", "toomanyrequests", "timeout", "timed out", "connection reset",
		"connection refused", "unexpected eof", "broken pipe", "tls handshake", "i/o timeout",
		"received unexpected http status: 5",
	} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// Retry runs f until it succeeds, fails for good (not IsTransient), or the
// schedule ends; it waits between tries as b says and honours ctx.
func Retry(ctx context.Context, b remote.Backoff, f func() error) error {
	wait := b.Duration
	var err error
	for i := 0; i < max(b.Steps, 1); i++ {
		if err = f(); err == nil || !IsTransient(err) {
			return err
		}
		if i == b.Steps-1 {
			break
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = time.Duration(float64(wait) * b.Factor)
		if b.Cap > 0 && wait > b.Cap {
			wait = b.Cap
		}
	}
	return err
}
