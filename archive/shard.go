package archive

import (
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
)

// Shard returns the sources of shard i of n: those whose file name (the
// last element of the path or S3 key; with its folder for numbered parts,
// as the 000000.gz of CloudWatch exports that every log stream's folder
// repeats) hashes to i, by FNV-1a modulo n. Every machine of a job that
// enumerates the same objects gets the same shares, however each spells
// its inputs (a relative or an absolute path, a directory or its parent, a
// different mount point or bucket prefix), and each object belongs to
// exactly one shard. AWS names every flow-log object uniquely; files that
// share a name go to the same shard.
func Shard(srcs []Source, i, n int) []Source {
	var out []Source
	for _, s := range srcs {
		h := fnv.New64a()
		h.Write([]byte(shardKey(s.Name)))
		if int(h.Sum64()%uint64(n)) == i {
			out = append(out, s)
		}
	}
	return out
}

// shardKey returns the last element of a path or URL, with the folder
// before it when the last is a number with at most an extension.
func shardKey(name string) string {
	seps := "/" + string(os.PathSeparator)
	i := strings.LastIndexAny(name, seps)
	base := name[i+1:]
	if rest := strings.TrimLeft(base, "0123456789"); i > 0 && len(rest) < len(base) && (rest == "" || rest[0] == '.') {
		i = strings.LastIndexAny(name[:i], seps)
	}
	return name[i+1:]
}

// ShardIndexVars are the environment variables that give a job's shard
// index, in the order they are read: AWS Batch array jobs, Kubernetes
// indexed Jobs.
var ShardIndexVars = []string{"AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"}

// ParseShard reads a --shard value: "I/N" (shard I of N, 0-based), or "N"
// with I from the first of ShardIndexVars that is set (lookup reads the
// environment; nil means os.LookupEnv).
func ParseShard(v string, lookup func(string) (string, bool)) (i, n int, err error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	is, ns, explicit := strings.Cut(v, "/")
	if !explicit {
		ns, is = is, ""
		for _, name := range ShardIndexVars {
			if s, ok := lookup(name); ok {
				is = s
				break
			}
		}
		if is == "" {
			return 0, 0, fmt.Errorf("--shard %s gives no index: write I/%s, or run as an AWS Batch array job or a Kubernetes indexed Job (%s)",
				v, v, strings.Join(ShardIndexVars, " or "))
		}
	}
	n, err = strconv.Atoi(ns)
	if err != nil || n < 1 {
		return 0, 0, fmt.Errorf("shard count %q is not a positive number", ns)
	}
	i, err = strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("shard index %q is not in 0..%d", is, n-1)
	}
	return i, n, nil
}
