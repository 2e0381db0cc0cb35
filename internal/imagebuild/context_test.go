package imagebuild

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/commitbench/commitbench/internal/image"
)

func TestContextTar(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "sglang", "srt"), 0o755)
	os.MkdirAll(filepath.Join(src, ".git", "objects"), 0o755)
	os.WriteFile(filepath.Join(src, ".git", "HEAD"), []byte("ref"), 0o644)
	os.WriteFile(filepath.Join(src, "sglang", "srt", "x.py"), []byte("x = 1\n"), 0o644)
	os.WriteFile(filepath.Join(src, "sglang", ".git"), []byte("gitdir: ../.git/modules/x"), 0o644) // a submodule's gitlink
	os.Symlink("srt/x.py", filepath.Join(src, "sglang", "link.py"))
	c := image.Context{Dockerfile: []byte("FROM scratch\n"), Files: []image.File{
		{Path: "requirements.txt", Data: []byte("numpy\n"), Mode: 0o644},
		{Path: "python", Src: src, Mode: 0o755},
	}}
	var a, b bytes.Buffer
	if err := writeContext(&a, c); err != nil {
		t.Fatal(err)
	}
	writeContext(&b, c)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same context gave two different tars")
	}
	var names []string
	tr := tar.NewReader(&a)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	want := []string{"Dockerfile", "python/", "python/sglang/", "python/sglang/link.py", "python/sglang/srt/", "python/sglang/srt/x.py", "requirements.txt"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("entries %q\nwant    %q", names, want)
	}
	dir := t.TempDir()
	if err := materialize(dir, c); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "python", "sglang", "link.py")); string(got) != "x = 1\n" {
		t.Fatalf("materialized symlink reads %q", got)
	}
}
