package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/tenure-pg/tenure/leaderelect"
	"github.com/tenure-pg/tenure/podagent/api"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func setupEditConfig(c *cli, fs *flag.FlagSet) func(context.Context, []string) error {
	var sets, pgs listFlag
	fs.Var(&sets, "set", "set a setting, `key=value` (JSON value or plain string; null removes); repeatable; parameters.NAME and postgresql.parameters.NAME set postgres parameters")
	fs.Var(&pgs, "pg", "set a postgres parameter, `name=value` (null removes); repeatable")
	force := fs.Bool("force", false, "apply without asking for confirmation")
	return func(ctx context.Context, args []string) error {
		var patch []byte
		st, err := c.openCluster(ctx, args, func() (err error) {
			if len(sets)+len(pgs) > 0 {
				patch, err = buildPatch(sets, pgs)
			}
			return err
		})
		if err != nil {
			return err
		}
		defer st.Close()
		return c.editConfig(ctx, st, patch, *force)
	}
}

// editConfig changes the dynamic configuration of the cluster in st: by
// patch when given, else in the editor. It shows the diff, asks, and
// writes with compare-and-swap: a patch is re-applied to whatever the
// config is by then; an edited whole is refused if someone changed the
// config meanwhile.
func (c *cli) editConfig(ctx context.Context, st *leaderelect.Store, patch []byte, force bool) error {
	cur := st.View().State.Config
	var next leaderelect.Config
	var err error
	if patch != nil {
		next, err = api.MergeConfig(cur, patch)
	} else {
		next, err = c.editInEditor(ctx, cur)
	}
	if err != nil {
		return err
	}
	before, after := configYAML(cur), configYAML(next)
	if before == after {
		fmt.Fprintln(c.out, "Not changed")
		return nil
	}
	for _, l := range diffLines(strings.Split(before, "\n"), strings.Split(after, "\n")) {
		fmt.Fprintln(c.out, l)
	}
	if err := c.confirm(force, "Apply these changes?"); err != nil {
		return err
	}
	_, err = st.Update(ctx, func(s *leaderelect.State) error {
		if patch != nil {
			merged, err := api.MergeConfig(s.Config, patch)
			s.Config = merged
			return err
		}
		if !reflect.DeepEqual(s.Config, cur) {
			return errors.New("the configuration changed while you edited it; run edit-config again")
		}
		s.Config = next
		return nil
	})
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	fmt.Fprintln(c.out, "Configuration changed")
	return nil
}

// buildPatch turns --set and --pg into a JSON merge patch.
func buildPatch(sets, pgs []string) ([]byte, error) {
	patch := map[string]any{}
	add := func(flagName, kv string, params bool) error {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || key == "" {
			return usagef("--%s %q: want key=value", flagName, kv)
		}
		path := strings.Split(strings.TrimPrefix(key, "postgresql."), ".")
		if params {
			path = []string{"parameters", key}
		}
		var v any = json.RawMessage(val)
		switch {
		case val == "null":
			v = nil
		case path[0] == "parameters" || !json.Valid([]byte(val)):
			v = val // parameter values are strings; so is anything not JSON
		}
		return setPath(patch, path, v)
	}
	for _, kv := range sets {
		if err := add("set", kv, false); err != nil {
			return nil, err
		}
	}
	for _, kv := range pgs {
		if err := add("pg", kv, true); err != nil {
			return nil, err
		}
	}
	return json.Marshal(patch)
}

func setPath(m map[string]any, path []string, v any) error {
	for i, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			if _, taken := m[k]; taken || k == "" {
				return usagef("--set %s: conflicts with another --set", strings.Join(path[:i+1], "."))
			}
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
	return nil
}

func configYAML(c leaderelect.Config) string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("# cannot render config: %v\n", err)
	}
	return string(b)
}

const editHeader = "# Dynamic configuration of cluster %s. Save and quit to apply; delete everything to abort.\n"

// editInEditor writes cur as YAML to a temporary file, runs the editor on
// it and decodes the result strictly.
func (c *cli) editInEditor(ctx context.Context, cur leaderelect.Config) (leaderelect.Config, error) {
	dir, err := os.MkdirTemp("", "tenure-edit-")
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("edit config: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, c.t.cluster+"-config.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(editHeader, c.t.cluster)+configYAML(cur)), 0o600); err != nil {
		return leaderelect.Config{}, fmt.Errorf("edit config: %w", err)
	}
	edit := c.edit
	if edit == nil {
		edit = runEditor
	}
	if err := edit(ctx, &c.env, path); err != nil {
		return leaderelect.Config{}, fmt.Errorf("editor: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("edit config: %w", err)
	}
	if len(bytes.TrimSpace(stripComments(data))) == 0 {
		return leaderelect.Config{}, errors.New("empty file: aborted, nothing changed")
	}
	raw, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return leaderelect.Config{}, fmt.Errorf("edited config: %w", err)
	}
	return api.DecodeConfig(raw)
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(append(out, l...), '\n')
		}
	}
	return out
}

// runEditor runs $VISUAL or $EDITOR (default vi) on path, on the terminal.
func runEditor(ctx context.Context, e *env, path string) error {
	editor := e.getenv("VISUAL")
	if editor == "" {
		editor = e.getenv("EDITOR")
	}
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", editor+` "$1"`, "sh", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run()
}
