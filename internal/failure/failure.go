// Package failure names why a variant failed. Categories come from an
// ordered, tested rule set (see Classify), never from hand labelling.
package failure

// Category is a failure class. The names are stable: publish tables, the HF
// dataset and downstream readers key on them.
type Category string

// The categories. Root causes come before their consequences in the rule
// order, so e.g. an NCCL symbol error is NCCL_MISMATCH, not IMPORT_ERROR.
const (
	ImportError        Category = "IMPORT_ERROR"
	CUDAArch           Category = "CUDA_ARCH"
	GPUOOM             Category = "GPU_OOM"
	NCCLMismatch       Category = "NCCL_MISMATCH"
	NCCLError          Category = "NCCL_ERROR"
	VersionMismatch    Category = "VERSION_MISMATCH"
	ModelPath          Category = "MODEL_PATH"
	ModelAccess        Category = "MODEL_ACCESS"
	LoRAConfig         Category = "LORA_CONFIG"
	DatasetDownload    Category = "DATASET_DOWNLOAD"
	InvalidDevice      Category = "INVALID_DEVICE"
	NoGPU              Category = "NO_GPU"
	PortInUse          Category = "PORT_IN_USE"
	DiskFull           Category = "DISK_FULL"
	TimeoutServerStart Category = "TIMEOUT_SERVER_START"
	TimeoutBenchmark   Category = "TIMEOUT_BENCHMARK"
	ServerCrash        Category = "SERVER_CRASH"
	MetricsMissing     Category = "METRICS_MISSING"
	PatchFailed        Category = "PATCH_FAILED"
	BuildFailed        Category = "BUILD_FAILED"
	Infra              Category = "INFRA"
	Cancelled          Category = "CANCELLED"
	Unknown            Category = "UNKNOWN"
	// UnsupportedModel: the engine (or transformers) at this commit does
	// not know the model's architecture; the case cannot run at this commit.
	UnsupportedModel Category = "UNSUPPORTED_MODEL"
	// BenchmarkFailed: the benchmark client ran but its requests failed
	// (bench_serving's "Warmup failed - Please make sure benchmark
	// arguments are correctly specified").
	BenchmarkFailed Category = "BENCHMARK_FAILED"
)

// Failure is why one variant or repetition failed.
type Failure struct {
	Category  Category `json:"category"`
	Retriable bool     `json:"retriable"`
	// Evidence is the matching log line with a few lines of context.
	Evidence string `json:"evidence,omitempty"`
	// RootCause and Hint are one line each: what went wrong, what to do.
	RootCause string `json:"root_cause,omitempty"`
	Hint      string `json:"hint,omitempty"`
	// Rule names the rule that matched, for debugging the rule set.
	Rule string `json:"rule,omitempty"`
	// Line is the 1-based line of the log where Evidence's matching line
	// is; 0 when the failure does not come from a log.
	Line int64 `json:"line,omitempty"`
}
