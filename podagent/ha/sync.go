package ha

import (
	"slices"
)

// syncActions keeps synchronous replication and its published set in
// step, one step per loop, so that every member of the published set holds
// every commit acknowledged so far (only they may promote):
//
//  1. a standby leaves the published set before postgres stops waiting
//     for it (after that it may miss acknowledged commits);
//  2. synchronous_standby_names then names exactly the chosen standbys
//     (FIRST n of n: each must confirm every commit);
//  3. a standby joins the published set only once it has flushed all WAL
//     the primary had when it started waiting for it: from then on it
//     holds everything acknowledged before, and everything after.
//
// DESIGN.md words this as "published before postgres relies on it when
// growing"; that order lets a standby that stopped confirming commits stay
// promotable, and the simulation lost acknowledged commits with it. This
// order is the safe one.
func syncActions(o Observation) []Action {
	want := wantedSync(o)
	apply := want
	if o.Settings.SyncMode == SyncStrict && len(want) == 0 {
		apply = []string{"*"} // no standby: block commits rather than lose them
	}
	published := o.View.State.Sync.Members
	stale := o.View.State.Sync.Leader != o.Self && (len(published) > 0 || syncMode(o))
	if o.View.State.Sync.Leader != o.Self {
		published = nil // another leader's set says nothing of our commits
	}
	keep := intersect(published, want)
	switch {
	case stale || !slices.Equal(keep, published):
		return []Action{{Kind: PublishSync, Members: keep, Reason: "unpublish standbys before postgres stops waiting for them"}}
	case !slices.Equal(o.Postgres.SyncStandbys, apply):
		return []Action{{Kind: ApplySync, Members: apply, Reason: "synchronous_standby_names follows the chosen standbys"}}
	}
	if grown := union(published, caughtUp(o, want)); !slices.Equal(grown, published) {
		return []Action{{Kind: PublishSync, Members: grown, Reason: "publish standbys that now hold every acknowledged commit"}}
	}
	return nil
}

// syncPending reports whether a chosen standby still waits to catch up
// before it can be published.
func syncPending(o Observation) bool {
	want := wantedSync(o)
	published := o.View.State.Sync.Members
	return len(want) > 0 && !subset(want, published)
}

// wantedSync picks the synchronous standbys, at most
// synchronous_node_count streaming replicas not tagged nosync: those
// already synchronous first (a choice by position alone flapped between
// two replicas at nearly the same position, and the set never settled long
// enough to be published), then the most caught-up.
func wantedSync(o Observation) []string {
	if !syncMode(o) {
		return nil
	}
	n := max(o.Settings.SyncNodeCount, 1)
	var cands []string
	for _, name := range o.Postgres.StreamingReplicas {
		if m, ok := o.View.Members[name]; !ok || !m.Tags.NoSync {
			cands = append(cands, name)
		}
	}
	out := intersect(o.Postgres.SyncStandbys, cands)
	for _, name := range cands {
		if len(out) >= n {
			break
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	out = out[:min(len(out), n)]
	slices.Sort(out)
	return out
}

// caughtUp returns the standbys of want that have flushed all WAL the
// primary had when synchronous_standby_names last changed.
func caughtUp(o Observation, want []string) []string {
	mark := o.Postgres.SyncAppliedLSN
	if mark == 0 {
		mark = o.Postgres.FlushedLSN
	}
	var out []string
	for _, w := range want {
		if o.Postgres.ReplicaFlushed[w] >= mark {
			out = append(out, w)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
