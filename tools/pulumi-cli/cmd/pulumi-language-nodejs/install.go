package main

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// InstallDependencies installs a program's or plugin's npm dependencies:
// the CLI calls it for `pulumi install`, `pulumi new`, and before it runs a
// local plugin or policy pack. The package manager is the one the runtime
// option `packagemanager` names, else the one whose lock file is there
// (npm, yarn, pnpm or bun), as upstream; in an npm or yarn workspace it runs
// at the workspace's root. Version managers (`.nvmrc` through fnm) are not
// consulted: setup already chose the Node.js on PATH.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()

	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() // CLIs before ProgramInfo sent only this
	}
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	root, err := npm.FindWorkspaceRoot(dir)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", root)
		dir = root
	case !errors.Is(err, npm.ErrNotInWorkspace):
		return fmt.Errorf("looking for the npm workspace of %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	name, err := npm.Install(server.Context(), opts.packagemanager, dir, false /* production */, stdout, stderr)
	if err != nil {
		return fmt.Errorf("%s install in %s: %w", name, dir, err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}
