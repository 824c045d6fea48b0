package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Settings come from, in order of precedence: the command line, FLOWLENS_*
// environment variables, the --config file, the defaults.

// configEnv names the config file when --config is not given.
const configEnv = "FLOWLENS_CONFIG"

// envName is the environment variable of a flag: FLOWLENS_ and the flag's
// name in capitals with '_' for '-' (--max-line-bytes: FLOWLENS_MAX_LINE_BYTES).
func envName(flagName string) string {
	return "FLOWLENS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// setting is where a flag's value came from.
type setting struct {
	name, value, source string
}

// applyConfig fills the flags the command line left unset from the
// environment and then from the config file (--config, or FLOWLENS_CONFIG
// for analyze),
// and returns every flag that is not at its default with its source. A bad
// value, or a key of the file that the command has no flag for, is an
// error naming the variable or file and line.
func applyConfig(fs *flag.FlagSet, lookup func(string) (string, bool)) ([]setting, error) {
	onLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onLine[f.Name] = true })
	path := ""
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
	}
	// FLOWLENS_CONFIG holds analyze's settings: other commands, which share
	// the environment of a job, read a file only when given --config.
	if v, ok := lookup(configEnv); ok && path == "" && fs.Name() == "analyze" {
		path = v
	}
	var file map[string]fileValue
	if path != "" {
		var err error
		if file, err = readConfigFile(path); err != nil {
			return nil, err
		}
		for key, v := range file {
			if fs.Lookup(key) == nil || key == "config" {
				return nil, fmt.Errorf("%s:%d: %q is not a setting of flowlens %s (see --help)", path, v.line, key, fs.Name())
			}
		}
	}
	var out []setting
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || f.Name == "config" {
			return
		}
		src := ""
		switch {
		case onLine[f.Name]:
			src = "flag --" + f.Name
		default:
			if v, ok := lookup(envName(f.Name)); ok {
				if serr := fs.Set(f.Name, v); serr != nil {
					err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, serr)
					return
				}
				src = "environment " + envName(f.Name)
			} else if v, ok := file[f.Name]; ok {
				if serr := fs.Set(f.Name, v.value); serr != nil {
					err = fmt.Errorf("%s:%d: %s: %v", path, v.line, f.Name, serr)
					return
				}
				src = fmt.Sprintf("%s:%d", path, v.line)
			}
		}
		if src != "" || f.Value.String() != f.DefValue {
			if src == "" {
				src = "default"
			}
			out = append(out, setting{f.Name, f.Value.String(), src})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, err
}

type fileValue struct {
	value string
	line  int
}

// readConfigFile reads a flat YAML mapping of flag names to values:
//
//	# flowlens.yaml
//	out: s3://my-lake/flowlens/
//	compression: zstd
//	internal-cidr: [100.64.0.0/10, 192.0.2.0/24]
//	sensitive-ports:
//	  - 22
//	  - 3389
//
// Scalars may be quoted; lists, inline or as "- item" lines, become
// comma-separated values. Nothing deeper is needed for flags, so nothing
// deeper is read.
func readConfigFile(path string) (map[string]fileValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	out := map[string]fileValue{}
	var listKey string // the key whose "- item" lines are being read
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := stripComment(sc.Text())
		if strings.TrimSpace(line) == "" {
			continue
		}
		if item, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok && listKey != "" && line[0] == ' ' {
			v := out[listKey]
			v.value = strings.TrimPrefix(v.value+","+unquote(strings.TrimSpace(item)), ",")
			out[listKey] = v
			continue
		}
		listKey = ""
		if line[0] == ' ' || line[0] == '\t' {
			return nil, fmt.Errorf("%s:%d: nested settings are not supported: write flag-name: value", path, n)
		}
		key, value, ok := strings.Cut(line, ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, fmt.Errorf("%s:%d: want flag-name: value", path, n)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %q is set twice", path, n, key)
		}
		if strings.HasPrefix(value, "[") && strings.HasSuffix(value, "]") {
			var items []string
			for _, it := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(value, "["), "]"), ",") {
				if it = strings.TrimSpace(it); it != "" {
					items = append(items, unquote(it))
				}
			}
			value = strings.Join(items, ",")
		} else {
			value = unquote(value)
		}
		if value == "" {
			listKey = key
		}
		out[key] = fileValue{value, n}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--config: %s: %w", path, err)
	}
	return out, nil
}

// stripComment removes a "#" comment that is not inside quotes.
func stripComment(line string) string {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i]
		}
	}
	return line
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}
