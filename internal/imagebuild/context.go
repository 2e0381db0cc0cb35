package imagebuild

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/commitbench/commitbench/internal/image"
)

// epoch is the mtime of every context entry: a context is then a function
// of its contents alone, so identical inputs hit the builder's cache.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// writeContext writes c as a tar stream: Dockerfile first, then each file
// (directories recursively, .git entries skipped: the build copies the
// tree, not its history).
func writeContext(w io.Writer, c image.Context) error {
	tw := tar.NewWriter(w)
	if err := addBytes(tw, "Dockerfile", c.Dockerfile, 0o644); err != nil {
		return err
	}
	files := append([]image.File(nil), c.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		var err error
		switch {
		case f.Data != nil:
			err = addBytes(tw, f.Path, f.Data, f.Mode)
		case f.Src != "":
			err = addTree(tw, f.Src, f.Path)
		default:
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: f.Path + "/", Mode: 0o755, ModTime: epoch})
		}
		if err != nil {
			return fmt.Errorf("build context %s: %w", f.Path, err)
		}
	}
	return tw.Close()
}

func addBytes(tw *tar.Writer, name string, data []byte, mode int64) error {
	if mode == 0 {
		mode = 0o644
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: mode, ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// addTree adds the file or directory src under the name dst.
func addTree(tw *tar.Writer, src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a submodule's gitlink file
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(dst, filepath.ToSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		h := &tar.Header{Name: name, Mode: int64(info.Mode().Perm()), ModTime: epoch}
		switch {
		case d.IsDir():
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
			return tw.WriteHeader(h)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			h.Typeflag, h.Linkname = tar.TypeSymlink, target
			return tw.WriteHeader(h)
		case info.Mode().IsRegular():
			h.Typeflag, h.Size = tar.TypeReg, info.Size()
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil // sockets, devices: nothing a build needs
	})
}

// materialize writes c into dir, for builders that read a directory
// (docker buildx).
func materialize(dir string, c image.Context) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, c)) }()
	tr := tar.NewReader(pr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			pr.CloseWithError(err)
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(h.Linkname, target)
		case tar.TypeReg:
			err = writeFile(target, tr, fs.FileMode(h.Mode))
		}
		if err != nil {
			pr.CloseWithError(err)
			return err
		}
	}
}

// writeFile writes r to path, creating its directory; a close error counts,
// since it can be the first report of a full disk.
func writeFile(path string, r io.Reader, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
