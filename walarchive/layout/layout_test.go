package layout

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenure-pg/tenure/walarchive/storage"
)

func valid() Archive {
	return Archive{Prefix: "tenure/prod", Cluster: "orders", UID: "6f1c2a9e-1b2c-4d3e-8f90-0a1b2c3d4e5f", Major: 15}
}

func TestKeys(t *testing.T) {
	a := valid()
	got := map[string]string{
		"root":    a.Root(),
		"wal":     a.WAL("000000010000000000000003"),
		"walpfx":  a.WALPrefix(),
		"backup":  a.Backup("20260101T000000Z", "base.tar"),
		"backups": a.BackupsPrefix(),
	}
	uid := "6f1c2a9e-1b2c-4d3e-8f90-0a1b2c3d4e5f"
	want := map[string]string{
		"root":    "tenure/prod/orders/" + uid + "/15",
		"wal":     "tenure/prod/orders/" + uid + "/15/wal/000000010000000000000003",
		"walpfx":  "tenure/prod/orders/" + uid + "/15/wal/",
		"backup":  "tenure/prod/orders/" + uid + "/15/basebackups/20260101T000000Z/base.tar",
		"backups": "tenure/prod/orders/" + uid + "/15/basebackups/",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for name, key := range got {
		if err := storage.ValidatePrefix(key); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	a.Prefix = ""
	if got := a.WAL("00000002.history"); got != "orders/"+uid+"/15/wal/00000002.history" {
		t.Errorf("no prefix: %s", got)
	}
}

func TestWALName(t *testing.T) {
	a := valid()
	for key, want := range map[string]string{
		a.WAL("000000010000000000000003"):               "000000010000000000000003",
		a.WAL("000000010000000000000003.conflict-ab12"): "000000010000000000000003.conflict-ab12",
		a.WALPrefix():             "",
		a.WALPrefix() + "x/y":     "",
		a.Backup("b", "base.tar"): "",
	} {
		got, ok := a.WALName(key)
		if got != want || ok != (want != "") {
			t.Errorf("WALName(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		edit func(*Archive)
		want string
	}{
		"no cluster":     {func(a *Archive) { a.Cluster = "" }, "archive cluster"},
		"slash in uid":   {func(a *Archive) { a.UID = "a/b" }, "archive uid"},
		"dot cluster":    {func(a *Archive) { a.Cluster = ".x" }, "archive cluster"},
		"major zero":     {func(a *Archive) { a.Major = 0 }, "archive major"},
		"major 150":      {func(a *Archive) { a.Major = 150 }, "archive major"},
		"prefix slash":   {func(a *Archive) { a.Prefix = "/x" }, "archive prefix"},
		"prefix dotdot":  {func(a *Archive) { a.Prefix = "a/../b" }, "archive prefix"},
		"prefix trailer": {func(a *Archive) { a.Prefix = "a/" }, "archive prefix"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := valid()
			tc.edit(&a)
			err := a.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error about %s", err, tc.want)
			}
		})
	}
	// All problems at once.
	err := Archive{}.Validate()
	for _, want := range []string{"cluster", "uid", "major"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("zero Archive: %v lacks %s", err, want)
		}
	}
	if err := ValidateComponent("a/b"); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("ValidateComponent: %v", err)
	}
}
