// Command fakepython stands in for python3 in build-image's tests until
// cmd/sglang-standin answers the import check: `python3 -c "import
// sgl_kernel, sglang"` succeeds when the image holds kernel libraries, and
// replays the real undefined-symbol ImportError (captured on an H100) when
// the variant's standin.json says {"fail": "undefined-symbol"}.
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

//go:embed undefined-symbol.txt
var undefinedSymbol string

func main() {
	if len(os.Args) < 3 || os.Args[1] != "-c" || !strings.Contains(os.Args[2], "import") {
		fmt.Fprintln(os.Stderr, "fakepython: only python3 -c \"import ...\" is played")
		os.Exit(2)
	}
	var cfg struct {
		Fail string `json:"fail"`
	}
	if b, err := os.ReadFile("/etc/commitbench-standin.json"); err == nil {
		if err := json.Unmarshal(b, &cfg); err != nil {
			fmt.Fprintf(os.Stderr, "/etc/commitbench-standin.json: %v\n", err)
			os.Exit(1)
		}
	}
	if cfg.Fail == "undefined-symbol" {
		fmt.Fprint(os.Stderr, undefinedSymbol)
		os.Exit(1)
	}
	libs, _ := filepath.Glob("/usr/lib/python3/dist-packages/sgl_kernel/*.so")
	if strings.Contains(os.Args[2], "sgl_kernel") && len(libs) == 0 {
		fmt.Fprintln(os.Stderr, "ModuleNotFoundError: No module named 'sgl_kernel'")
		os.Exit(1)
	}
}
