// Command sglang-standin plays SGLang in containers on machines without
// GPUs. Build it static (CGO_ENABLED=0) and install it as /usr/bin/python3
// in a FROM scratch image; see docs/standin.md.
package main

import (
	"os"

	"github.com/commitbench/commitbench/internal/standin"
)

func main() {
	os.Exit(standin.Main(standin.Env{Args: os.Args, Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr}))
}
