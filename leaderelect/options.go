package leaderelect

import (
	"fmt"
	"time"

	"k8s.io/utils/clock"
)

// Options configure one member's Store.
type Options struct {
	// Cluster and Member name the cluster and this member (see
	// ValidateName).
	Cluster string
	Member  string

	// TTL is the lock's time to live, in whole seconds (the Lease field is
	// whole seconds). RenewDeadline is how long after sending its last
	// successful renewal the holder still acts as leader; it must be
	// shorter than TTL. RetryPeriod is how often the holder renews and a
	// follower retries; RenewDeadline must exceed 1.2×RetryPeriod so a
	// single slow renewal does not cost the lock (client-go's rule).
	TTL           time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration

	// RequestTimeout bounds every API call the Store makes.
	RequestTimeout time.Duration

	// HeartbeatMinInterval is the least time between two heartbeats that
	// differ only in WAL positions. HeartbeatMaxInterval is the keepalive:
	// an unchanged heartbeat is rewritten after this long.
	HeartbeatMinInterval time.Duration
	HeartbeatMaxInterval time.Duration

	// Clock gives "now". Production uses the real clock, whose readings
	// carry Go's monotonic component; tests pass a fake one.
	Clock clock.PassiveClock
}

// Default returns the defaults for member of cluster. With TTL 10 s and a
// renewal every 5 s, an idle 3-member cluster makes about 0.2 lock writes
// per second plus one keepalive per member every two minutes.
func Default(cluster, member string) Options {
	return Options{
		Cluster:              cluster,
		Member:               member,
		TTL:                  10 * time.Second,
		RenewDeadline:        7 * time.Second,
		RetryPeriod:          5 * time.Second,
		RequestTimeout:       2 * time.Second,
		HeartbeatMinInterval: 5 * time.Second,
		HeartbeatMaxInterval: 2 * time.Minute,
		Clock:                clock.RealClock{},
	}
}

// Validate reports the first problem with o, wrapped in ErrInvalid.
func (o Options) Validate() error {
	if err := ValidateName("cluster", o.Cluster); err != nil {
		return err
	}
	if err := ValidateName("member", o.Member); err != nil {
		return err
	}
	switch {
	case o.TTL <= 0 || o.TTL%time.Second != 0:
		return fmt.Errorf("%w: ttl %v must be a positive whole number of seconds", ErrInvalid, o.TTL)
	case o.RenewDeadline <= 0 || o.RenewDeadline >= o.TTL:
		return fmt.Errorf("%w: renew deadline %v must be positive and shorter than ttl %v", ErrInvalid, o.RenewDeadline, o.TTL)
	case o.RetryPeriod <= 0 || float64(o.RenewDeadline) <= 1.2*float64(o.RetryPeriod):
		return fmt.Errorf("%w: renew deadline %v must exceed 1.2 × retry period %v", ErrInvalid, o.RenewDeadline, o.RetryPeriod)
	case o.RequestTimeout <= 0 || o.RequestTimeout >= o.RenewDeadline:
		return fmt.Errorf("%w: request timeout %v must be positive and shorter than renew deadline %v", ErrInvalid, o.RequestTimeout, o.RenewDeadline)
	case o.HeartbeatMinInterval < 0 || o.HeartbeatMaxInterval < o.HeartbeatMinInterval:
		return fmt.Errorf("%w: heartbeat intervals min %v max %v: need 0 <= min <= max", ErrInvalid, o.HeartbeatMinInterval, o.HeartbeatMaxInterval)
	case o.Clock == nil:
		return fmt.Errorf("%w: no clock", ErrInvalid)
	}
	return nil
}

// ValidateName checks that name is usable as a cluster or member name: a
// DNS-1123 label (at most 63 characters of lowercase letters, digits and
// '-', starting and ending with a letter or digit), as pod names are, so it
// can appear in object names and label values alike.
func ValidateName(what, name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty %s name", ErrInvalid, what)
	}
	if len(name) > 63 {
		return fmt.Errorf("%w: %s name %q is longer than 63 characters", ErrInvalid, what, name)
	}
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		edge := i == 0 || i == len(name)-1
		if !alnum && (edge || r != '-') {
			return fmt.Errorf("%w: %s name %q: use lowercase letters, digits and '-' (not at either end)", ErrInvalid, what, name)
		}
	}
	return nil
}
