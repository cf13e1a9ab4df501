package ha

import (
	"fmt"
	"strings"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Kind is what an action does.
type Kind string

const (
	Wait             Kind = "wait"              // nothing to do now; Reason says why
	NeedsAttention   Kind = "needs-attention"   // a human must act; nothing is touched
	AcquireLock      Kind = "acquire-lock"      // race for the free or expired lock (Member: take it over from a dead holder)
	RenewLock        Kind = "renew-lock"        // renew (or take over a handed-over lock)
	ReleaseLock      Kind = "release-lock"      // give the lock up
	HandOver         Kind = "hand-over"         // pass the lock to Member
	InitDB           Kind = "initdb"            // create a new cluster
	RestoreArchive   Kind = "restore-archive"   // create the cluster from the source archive (clone or standby cluster)
	RecordInitialize Kind = "record-initialize" // write the system identifier
	FinishRestore    Kind = "finish-restore"    // a clone reached its target: drop the restore's settings
	AbandonRestore   Kind = "abandon-restore"   // a clone's recovery stopped short: stop postgres at once, mark the data directory incomplete
	Basebackup       Kind = "basebackup"        // clone Member into the empty data directory
	Reclone          Kind = "reclone"           // wipe the data directory and clone Member
	Rewind           Kind = "rewind"            // pg_rewind against Member
	StartPrimary     Kind = "start-primary"     // start postgres without standby settings
	StartReplica     Kind = "start-replica"     // start postgres following Member
	Follow           Kind = "follow"            // point the running replica at Member
	Promote          Kind = "promote"           // pg_promote
	Demote           Kind = "demote"            // stop postgres at once (fast): no more writes
	StopPostgres     Kind = "stop"              // clean shutdown (fast mode, checkpoint)
	AwaitCandidate   Kind = "await-candidate"   // wait until Member received all WAL of the stopped primary
	FenceOthers      Kind = "fence-others"      // remove the primary label from every other pod
	Label            Kind = "label"             // set this pod's role label to Role
	PublishSync      Kind = "publish-sync"      // publish Members as the synchronous set
	ApplySync        Kind = "apply-sync"        // set synchronous_standby_names to Members
	ClearSwitchover  Kind = "clear-switchover"  // the intent is done or void
	CreateSlots      Kind = "create-slots"      // physical slots for Members, so the primary keeps their WAL
	RecordHistory    Kind = "record-history"    // append a history entry
	Checkpoint       Kind = "checkpoint"        // so the control file shows the new timeline (pg_rewind reads it)
	Exit             Kind = "exit"              // the agent may exit now
)

// Action is one step. Member, Members and Role are set where the kind
// needs them.
type Action struct {
	Kind    Kind
	Member  string
	Members []string
	Role    leaderelect.Role
	Reason  string
}

func (a Action) String() string {
	var b strings.Builder
	b.WriteString(string(a.Kind))
	if a.Member != "" {
		fmt.Fprintf(&b, "(%s)", a.Member)
	}
	if a.Members != nil {
		fmt.Fprintf(&b, "%v", a.Members)
	}
	if a.Role != "" {
		fmt.Fprintf(&b, "[%s]", a.Role)
	}
	return b.String()
}

// Decision is Decide's answer: the actions in order, and the reason for
// the whole in one line (logged when it changes).
type Decision struct {
	Actions []Action
	Reason  string
	// Soon asks to observe again shortly: the decision waits on something
	// that changes without an event the agent would wake on (a standby
	// catching up before it may be published as synchronous).
	Soon bool
}

// Kinds lists the action kinds, for tests and logs.
func (d Decision) Kinds() []Kind {
	out := make([]Kind, len(d.Actions))
	for i, a := range d.Actions {
		out[i] = a.Kind
	}
	return out
}

func decide(reason string, actions ...Action) Decision {
	return Decision{Actions: actions, Reason: reason}
}

func wait(reason string) Decision { return decide(reason, Action{Kind: Wait, Reason: reason}) }

func act(k Kind, reason string) Action { return Action{Kind: k, Reason: reason} }

func actOn(k Kind, member, reason string) Action {
	return Action{Kind: k, Member: member, Reason: reason}
}

func label(role leaderelect.Role) Action {
	return Action{Kind: Label, Role: role, Reason: "role label follows postgres"}
}
