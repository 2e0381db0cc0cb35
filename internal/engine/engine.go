// Package engine holds what commitbench knows about a serving engine: its
// benchmark tools and how each one runs, how its server is launched and how
// it says it is ready. SGLang is the first implementation; vLLM follows
// behind the same interface without touching the stages.
package engine

// Tool is an engine benchmark tool, named by its module's last element.
type Tool string

// SGLang's benchmark tools.
const (
	BenchServing           Tool = "bench_serving"
	BenchOneBatch          Tool = "bench_one_batch"
	BenchOneBatchServer    Tool = "bench_one_batch_server"
	BenchOfflineThroughput Tool = "bench_offline_throughput"
	// BenchLatency is bench_one_batch's name before 2024-11-21.
	BenchLatency Tool = "bench_latency"
)

// Mode says who starts the engine for a tool.
type Mode string

const (
	// ModeServer: commitbench launches the server, the tool is a client.
	ModeServer Mode = "server"
	// ModeDirect: the tool runs the engine in-process.
	ModeDirect Mode = "direct"
	// ModeSelfServing: the tool starts its own server and benchmarks it.
	ModeSelfServing Mode = "self-serving"
)

// Mode returns how t runs, or "" for an unknown tool.
func (t Tool) Mode() Mode {
	switch t {
	case BenchServing:
		return ModeServer
	case BenchOneBatch, BenchOfflineThroughput, BenchLatency:
		return ModeDirect
	case BenchOneBatchServer:
		return ModeSelfServing
	}
	return ""
}

// Tools lists the known tools in a stable order.
func Tools() []Tool {
	return []Tool{BenchServing, BenchOneBatch, BenchOneBatchServer, BenchOfflineThroughput, BenchLatency}
}

// Engine is the engine-specific knowledge the stages need.
type Engine interface {
	// Name is the engine's short name ("sglang").
	Name() string
	// DefaultPort is the port its server listens on by default.
	DefaultPort() int
	// ReadyLine is the server log line printed once the server has warmed up.
	ReadyLine() string
	// Module returns the Python module that runs tool.
	Module(t Tool) string
}

// SGLang is the SGLang engine.
type SGLang struct{}

func (SGLang) Name() string      { return "sglang" }
func (SGLang) DefaultPort() int  { return 30000 }
func (SGLang) ReadyLine() string { return "The server is fired up and ready to roll!" }
func (SGLang) Module(t Tool) string {
	return "sglang." + string(t)
}

// LaunchServerModule is the module that starts SGLang's HTTP server.
const LaunchServerModule = "sglang.launch_server"
