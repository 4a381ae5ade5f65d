//go:build tools

// Package tools pins go-containerregistry's crane, which `npm run setup` builds into the per-user cache.
package tools

import _ "github.com/google/go-containerregistry/cmd/crane"
