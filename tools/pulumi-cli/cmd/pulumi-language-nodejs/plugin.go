package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RunPlugin runs a plugin written in Node.js: the CLI calls it for a
// provider, tool or converter directory with a PulumiPlugin.yaml whose
// runtime is nodejs (such as a local component provider in a project's
// `plugins:` or `packages:`), and for a policy pack (PulumiPolicy.yaml,
// `--policy-pack DIR`). The plugin's output streams back to the CLI, which
// reads the plugin's port from its first line.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	if req.GetAttachDebugger() {
		return status.Error(codes.Unimplemented, "this language host cannot attach a debugger to a plugin")
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	policy := req.GetKind() == string(apitype.AnalyzerPlugin)
	module := "@pulumi/pulumi/cmd/run-plugin"
	if policy {
		module = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	entry, err := resolveModule(ctx, module, dir, "npm install in "+dir)
	if err != nil {
		return err
	}

	// A plugin takes its directory first; a policy pack last, after the engine's arguments.
	args := append(append([]string{}, opts.nodeargs...), entry)
	if policy {
		args = append(append(args, req.GetArgs()...), dir)
	} else {
		args = append(append(args, dir), req.GetArgs()...)
	}
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	env = append(append([]string{}, env...), opts.env()...)

	var proxy *sdk.PolicyProxy
	if policy {
		// The engine configures a policy pack through the Analyzer service before it runs;
		// the SDK's proxy takes that call and passes the stack's settings on as environment.
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("starting the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the stack's configuration: %w", err)
		}
		if env, err = policyEnv(env, stack); err != nil {
			return err
		}
	}

	cmd := nodeCommand(ctx, args, env, stdout, stderr)
	cmd.Dir = req.GetPwd()
	if policy {
		cmd.Dir = dir // policy packs have always run in their own directory
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run node for the plugin in %s: %w", dir, err)
	}
	if proxy != nil {
		// The proxy serves the engine from now on and waits for the policy pack itself.
		if err := proxy.Attach(ctx, cmd); err != nil {
			return fmt.Errorf("attaching to the policy pack in %s: %w", dir, err)
		}
		return closer.Close()
	}
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("plugin in %s exited with non-zero exit code: %d", dir, exitErr.ExitCode())
		}
		return fmt.Errorf("plugin in %s: %w", dir, err)
	}
	return closer.Close()
}

// policyEnv adds what @pulumi/pulumi's policy pack entry point reads of the stack.
func policyEnv(env []string, stack *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if stack == nil {
		return env, nil
	}
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	add("PULUMI_NODEJS_ORGANIZATION", stack.GetOrganization())
	add("PULUMI_NODEJS_PROJECT", stack.GetProject())
	add("PULUMI_NODEJS_STACK", stack.GetStack())
	add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.GetDryRun()))
	if stack.GetConfig() != nil {
		cfg, err := json.Marshal(stack.GetConfig())
		if err != nil {
			return nil, err
		}
		add("PULUMI_CONFIG", string(cfg))
	}
	return env, nil
}
