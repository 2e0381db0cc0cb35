package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"sort"

	"github.com/commitbench/commitbench/internal/actionsio"
	"github.com/commitbench/commitbench/internal/cli"
	"github.com/commitbench/commitbench/internal/cudaarch"
)

// fileArchs is one entry of `build-image archs`.
type fileArchs struct {
	File  string   `json:"file"`
	SASS  []string `json:"sass"`
	PTX   []string `json:"ptx"`
	Error string   `json:"error,omitempty"`
}

// archsCommand prints the GPU architectures of shared libraries as JSON,
// read from their .nv_fatbin sections (what cuobjdump --list-elf/--list-ptx
// would list), sorted by file. A file that cannot be read gets an "error"
// entry and the command exits 1.
func archsCommand(_ context.Context, args []string, o actionsio.Options) error {
	x := actionsio.New("build-image archs", o)
	if err := x.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return cli.Usagef("%v", err)
	}
	files := x.Flags().Args()
	if len(files) == 0 {
		return cli.Usagef("archs: no file; usage: build-image archs LIB.so...")
	}
	sort.Strings(files)
	out := []fileArchs{}
	failed := 0
	for i, f := range files {
		if i > 0 && f == files[i-1] {
			continue
		}
		a, err := cudaarch.ReadFile(f)
		e := fileArchs{File: f, SASS: a.SASS, PTX: a.PTX}
		if err != nil {
			e.SASS, e.PTX, e.Error = []string{}, []string{}, err.Error()
			failed++
		}
		out = append(out, e)
	}
	enc := json.NewEncoder(x.Stdout())
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("archs: %d of %d files could not be read", failed, len(out))
	}
	return nil
}
