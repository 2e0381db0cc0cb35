package fakemodal

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/modal-labs/modal-client/go/proto/modal_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func (s *Server) AuthTokenGet(context.Context, *pb.AuthTokenGetRequest) (*pb.AuthTokenGetResponse, error) {
	return pb.AuthTokenGetResponse_builder{Token: JWT(time.Now().Add(time.Hour))}.Build(), nil
}

func (s *Server) AppGetOrCreate(_ context.Context, req *pb.AppGetOrCreateRequest) (*pb.AppGetOrCreateResponse, error) {
	return pb.AppGetOrCreateResponse_builder{AppId: "ap-" + req.GetAppName()}.Build(), nil
}

func (s *Server) EnvironmentGetOrCreate(context.Context, *pb.EnvironmentGetOrCreateRequest) (*pb.EnvironmentGetOrCreateResponse, error) {
	return pb.EnvironmentGetOrCreateResponse_builder{EnvironmentId: "en-main", Metadata: pb.EnvironmentMetadata_builder{
		Name: "main", Settings: pb.EnvironmentSettings_builder{ImageBuilderVersion: "2025.06"}.Build()}.Build()}.Build(), nil
}

// SecretGetOrCreate keeps the secret's values: sandboxes get them as
// environment variables, images use them as registry credentials.
func (s *Server) SecretGetOrCreate(_ context.Context, req *pb.SecretGetOrCreateRequest) (*pb.SecretGetOrCreateResponse, error) {
	id := s.nextID("st")
	env := map[string]string{}
	for k, v := range req.GetEnvDict() {
		env[k] = v
	}
	s.mu.Lock()
	s.secrets[id] = env
	s.mu.Unlock()
	return pb.SecretGetOrCreateResponse_builder{SecretId: id}.Build(), nil
}

// Secret returns a recorded secret's values (tests assert on them).
func (s *Server) Secret(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.secrets[id]
}

func (s *Server) secretEnv(ids []string, sources []*pb.SecretSource) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	env := map[string]string{}
	add := func(id string) error {
		m, ok := s.secrets[id]
		if !ok {
			return status.Errorf(codes.NotFound, "Secret %s not found", id)
		}
		for k, v := range m {
			env[k] = v
		}
		return nil
	}
	for _, id := range ids {
		if err := add(id); err != nil {
			return nil, err
		}
	}
	for _, src := range sources {
		if src.HasSecretId() {
			if err := add(src.GetSecretId()); err != nil {
				return nil, err
			}
		}
		for k, v := range src.GetEnv().GetContents() {
			env[k] = v
		}
	}
	return env, nil
}

func (s *Server) VolumeGetOrCreate(_ context.Context, req *pb.VolumeGetOrCreateRequest) (*pb.VolumeGetOrCreateResponse, error) {
	name := req.GetDeploymentName()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.volumes {
		if v.name == name {
			return pb.VolumeGetOrCreateResponse_builder{VolumeId: v.id}.Build(), nil
		}
	}
	if req.GetObjectCreationType() != pb.ObjectCreationType_OBJECT_CREATION_TYPE_CREATE_IF_MISSING {
		return nil, status.Errorf(codes.NotFound, "Volume '%s' not found", name)
	}
	s.seq++
	v := &volume{id: fmt.Sprintf("vo-%d", s.seq), name: name, dir: filepath.Join(s.opts.Dir, "volumes", name)}
	s.volumes[v.id] = v
	return pb.VolumeGetOrCreateResponse_builder{VolumeId: v.id}.Build(), nil
}

// VolumeDir is where the named volume's files are on this machine.
func (s *Server) VolumeDir(name string) string { return filepath.Join(s.opts.Dir, "volumes", name) }

func (s *Server) SandboxCreate(_ context.Context, req *pb.SandboxCreateRequest) (*pb.SandboxCreateResponse, error) {
	def := req.GetDefinition()
	env, err := s.secretEnv(def.GetSecretIds(), nil)
	if err != nil {
		return nil, err
	}
	sb, err := s.newSandbox(req.GetAppId(), def, req.GetTags(), env, false)
	if err != nil {
		return nil, err
	}
	return pb.SandboxCreateResponse_builder{SandboxId: sb.ID}.Build(), nil
}

func (s *Server) SandboxCreateV2(_ context.Context, req *pb.SandboxCreateV2Request) (*pb.SandboxCreateV2Response, error) {
	def := req.GetDefinition()
	if def.GetResources().GetGpuConfig().GetCount() > 0 {
		return nil, status.Error(codes.InvalidArgument, "GPUs are not supported by V2 sandboxes")
	}
	env, err := s.secretEnv(def.GetSecretIds(), req.GetSecretSources())
	if err != nil {
		return nil, err
	}
	sb, err := s.newSandbox(req.GetAppId(), def, req.GetTags(), env, true)
	if err != nil {
		return nil, err
	}
	return pb.SandboxCreateV2Response_builder{SandboxId: sb.ID, TaskId: sb.taskID,
		CommandRouterAccess: pb.CommandRouterAccess_builder{Jwt: JWT(time.Now().Add(time.Hour)), Url: "https://" + s.Addr}.Build()}.Build(), nil
}

func (s *Server) SandboxGetTaskId(_ context.Context, req *pb.SandboxGetTaskIdRequest) (*pb.SandboxGetTaskIdResponse, error) {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	return pb.SandboxGetTaskIdResponse_builder{TaskId: &sb.taskID}.Build(), nil
}

func (s *Server) SandboxGetTaskIdV2(ctx context.Context, req *pb.SandboxGetTaskIdRequest) (*pb.SandboxGetTaskIdResponse, error) {
	return s.SandboxGetTaskId(ctx, req)
}

func (s *Server) TaskGetCommandRouterAccess(_ context.Context, req *pb.TaskGetCommandRouterAccessRequest) (*pb.TaskGetCommandRouterAccessResponse, error) {
	if _, err := s.sandboxByTask(req.GetTaskId()); err != nil {
		return nil, err
	}
	// https is required by the SDK; it dials without TLS because the
	// server URL is on 127.0.0.1, so both services share one listener.
	return pb.TaskGetCommandRouterAccessResponse_builder{Jwt: JWT(time.Now().Add(time.Hour)), Url: "https://" + s.Addr}.Build(), nil
}

func (s *Server) SandboxGetTunnels(_ context.Context, req *pb.SandboxGetTunnelsRequest) (*pb.SandboxGetTunnelsResponse, error) {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	tunnels, err := sb.tunnels()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return pb.SandboxGetTunnelsResponse_builder{Result: pb.GenericResult_builder{Status: pb.GenericResult_GENERIC_STATUS_SUCCESS}.Build(),
		Tunnels: tunnels}.Build(), nil
}

func (s *Server) SandboxGetTunnelsV2(ctx context.Context, req *pb.SandboxGetTunnelsRequest) (*pb.SandboxGetTunnelsResponse, error) {
	return s.SandboxGetTunnels(ctx, req)
}

// SandboxGetLogs streams the entrypoint's output of one descriptor from
// after LastEntryId, until the sandbox has finished (then a batch with Eof)
// or the request's timeout passes (then the SDK reopens the stream).
func (s *Server) SandboxGetLogs(req *pb.SandboxGetLogsRequest, stream grpc.ServerStreamingServer[pb.TaskLogsBatch]) error {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return err
	}
	last, _ := strconv.Atoi(strings.SplitN(req.GetLastEntryId(), "-", 2)[0])
	deadline := time.After(time.Duration(float64(req.GetTimeout()) * float64(time.Second)))
	for {
		items, upTo, finished, changed := sb.logsAfter(req.GetFileDescriptor(), last)
		if len(items) > 0 {
			if err := stream.Send(pb.TaskLogsBatch_builder{SandboxId: sb.ID, TaskId: sb.taskID, EntryId: fmt.Sprintf("%d-0", upTo), Items: items}.Build()); err != nil {
				return err
			}
			last = upTo
			continue
		}
		if finished {
			return stream.Send(pb.TaskLogsBatch_builder{SandboxId: sb.ID, EntryId: fmt.Sprintf("%d-0", last), Eof: true}.Build())
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		case <-deadline:
			return nil
		}
	}
}

func (s *Server) SandboxWait(ctx context.Context, req *pb.SandboxWaitRequest) (*pb.SandboxWaitResponse, error) {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(time.Duration(float64(req.GetTimeout()) * float64(time.Second)))
	defer timer.Stop()
	for {
		res, changed := sb.state()
		if res != nil {
			return pb.SandboxWaitResponse_builder{Result: res}.Build(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-timer.C:
			return pb.SandboxWaitResponse_builder{}.Build(), nil
		}
	}
}

func (s *Server) SandboxWaitV2(ctx context.Context, req *pb.SandboxWaitRequest) (*pb.SandboxWaitResponse, error) {
	return s.SandboxWait(ctx, req)
}

func (s *Server) SandboxTerminate(_ context.Context, req *pb.SandboxTerminateRequest) (*pb.SandboxTerminateResponse, error) {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	sb.stop(pb.GenericResult_GENERIC_STATUS_TERMINATED, "Sandbox terminated")
	return pb.SandboxTerminateResponse_builder{}.Build(), nil
}

func (s *Server) SandboxTerminateV2(ctx context.Context, req *pb.SandboxTerminateRequest) (*pb.SandboxTerminateResponse, error) {
	return s.SandboxTerminate(ctx, req)
}

// SandboxList returns the running sandboxes of the app that carry every
// tag asked for, newest first, older than BeforeTimestamp when it is set.
func (s *Server) SandboxList(_ context.Context, req *pb.SandboxListRequest) (*pb.SandboxListResponse, error) {
	s.mu.Lock()
	all := make([]*sandbox, 0, len(s.sandboxes))
	for _, sb := range s.sandboxes {
		all = append(all, sb)
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].created.After(all[j].created) })
	var out []*pb.SandboxInfo
	for _, sb := range all {
		res, _ := sb.state()
		created := float64(sb.created.UnixNano()) / 1e9
		switch {
		case res != nil && !req.GetIncludeFinished():
		case req.GetAppId() != "" && req.GetAppId() != sb.appID:
		case req.GetBeforeTimestamp() != 0 && created >= req.GetBeforeTimestamp():
		case !hasTags(sb.Tags, req.GetTags()):
		default:
			out = append(out, pb.SandboxInfo_builder{Id: sb.ID, CreatedAt: created, AppId: sb.appID, Tags: tagList(sb.Tags)}.Build())
		}
	}
	return pb.SandboxListResponse_builder{Sandboxes: out}.Build(), nil
}

// SandboxListV2 lists V1 and V2 sandboxes alike, as Modal's does.
func (s *Server) SandboxListV2(ctx context.Context, req *pb.SandboxListRequest) (*pb.SandboxListResponse, error) {
	return s.SandboxList(ctx, req)
}

func (s *Server) SandboxTagsGet(_ context.Context, req *pb.SandboxTagsGetRequest) (*pb.SandboxTagsGetResponse, error) {
	sb, err := s.sandbox(req.GetSandboxId())
	if err != nil {
		return nil, err
	}
	return pb.SandboxTagsGetResponse_builder{Tags: tagList(sb.Tags)}.Build(), nil
}

func (s *Server) SandboxTagsGetV2(ctx context.Context, req *pb.SandboxTagsGetRequest) (*pb.SandboxTagsGetResponse, error) {
	return s.SandboxTagsGet(ctx, req)
}

func hasTags(have map[string]string, want []*pb.SandboxTag) bool {
	for _, t := range want {
		if v, ok := have[t.GetTagName()]; !ok || v != t.GetTagValue() {
			return false
		}
	}
	return true
}

func tagList(m map[string]string) []*pb.SandboxTag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pb.SandboxTag, 0, len(m))
	for _, k := range keys {
		out = append(out, pb.SandboxTag_builder{TagName: k, TagValue: m[k]}.Build())
	}
	return out
}
