package kubestore

import (
	"encoding/json"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenure-pg/tenure/leaderelect"
)

// Labels and annotations on the objects kubestore owns.
const (
	LabelCluster     = "tenure.dev/cluster"
	LabelKind        = "tenure.dev/kind"
	LabelMember      = "tenure.dev/member"
	annotationWrite  = "tenure.dev/write-id"
	annotationStatus = "tenure.dev/status"

	kindLeader = "leader"
	kindMember = "member"
	kindConfig = "config"
)

// ConfigMap data keys.
const (
	keyConfig     = "config"
	keyInitialize = "initialize"
	keySwitchover = "switchover"
	keySync       = "sync"
	keyHistory    = "history"
)

func (b *Backend) meta(name, kind, version, writeID string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            name,
		Namespace:       b.namespace,
		ResourceVersion: version,
		Labels: map[string]string{
			LabelCluster:                   b.cluster,
			LabelKind:                      kind,
			"app.kubernetes.io/name":       "tenure",
			"app.kubernetes.io/instance":   b.cluster,
			"app.kubernetes.io/managed-by": "tenure-agent",
		},
		Annotations: map[string]string{annotationWrite: writeID},
	}
}

func (b *Backend) lockLease(rec leaderelect.Record) *coordinationv1.Lease {
	l := rec.Lock
	lease := &coordinationv1.Lease{ObjectMeta: b.meta(b.lockName(), kindLeader, rec.Version, rec.WriteID)}
	if l.Holder != "" {
		lease.Spec.HolderIdentity = &l.Holder
	}
	ttl := int32(l.TTL / time.Second)
	transitions := int32(l.Epoch)
	lease.Spec.LeaseDurationSeconds = &ttl
	lease.Spec.LeaseTransitions = &transitions
	lease.Spec.AcquireTime = microTime(l.AcquiredAt)
	lease.Spec.RenewTime = microTime(l.RenewedAt)
	return lease
}

func (b *Backend) memberLease(rec leaderelect.Record) (*coordinationv1.Lease, error) {
	status, err := json.Marshal(rec.Member)
	if err != nil {
		return nil, fmt.Errorf("encode status of %s: %w", rec.Name, err)
	}
	lease := &coordinationv1.Lease{ObjectMeta: b.meta(b.memberName(rec.Name), kindMember, rec.Version, rec.WriteID)}
	lease.Labels[LabelMember] = rec.Name
	lease.Annotations[annotationStatus] = string(status)
	holder := rec.Name
	lease.Spec.HolderIdentity = &holder
	lease.Spec.RenewTime = microTime(rec.Member.UpdatedAt)
	if b.owner != nil && rec.Name == b.member {
		lease.OwnerReferences = []metav1.OwnerReference{*b.owner}
	}
	return lease, nil
}

func (b *Backend) configMap(rec leaderelect.Record) (*corev1.ConfigMap, error) {
	st := rec.State
	data := map[string]string{}
	put := func(key string, v any) error {
		raw, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
		data[key] = string(raw)
		return nil
	}
	if err := put(keyConfig, st.Config); err != nil {
		return nil, err
	}
	if err := put(keySync, st.Sync); err != nil {
		return nil, err
	}
	if st.Switchover != nil {
		if err := put(keySwitchover, st.Switchover); err != nil {
			return nil, err
		}
	}
	if len(st.History) > 0 {
		if err := put(keyHistory, st.History); err != nil {
			return nil, err
		}
	}
	if st.Initialize != "" {
		data[keyInitialize] = st.Initialize
	}
	return &corev1.ConfigMap{ObjectMeta: b.meta(b.configName(), kindConfig, rec.Version, rec.WriteID), Data: data}, nil
}

func microTime(t time.Time) *metav1.MicroTime {
	if t.IsZero() {
		return nil
	}
	mt := metav1.NewMicroTime(t)
	return &mt
}

func fromMicro(mt *metav1.MicroTime) time.Time {
	if mt == nil {
		return time.Time{}
	}
	return mt.Time
}

// decodeLease turns a Lease into a record; ok is false for leases that are
// not ours.
func decodeLease(lease *coordinationv1.Lease) (leaderelect.Record, bool, error) {
	rec := leaderelect.Record{Version: lease.ResourceVersion, WriteID: lease.Annotations[annotationWrite]}
	switch lease.Labels[LabelKind] {
	case kindLeader:
		rec.Key = leaderelect.Key{Kind: leaderelect.KindLock}
		s := lease.Spec
		if s.HolderIdentity != nil {
			rec.Lock.Holder = *s.HolderIdentity
		}
		if s.LeaseDurationSeconds != nil {
			rec.Lock.TTL = time.Duration(*s.LeaseDurationSeconds) * time.Second
		}
		if s.LeaseTransitions != nil {
			rec.Lock.Epoch = int64(*s.LeaseTransitions)
		}
		rec.Lock.AcquiredAt, rec.Lock.RenewedAt = fromMicro(s.AcquireTime), fromMicro(s.RenewTime)
	case kindMember:
		name := lease.Labels[LabelMember]
		rec.Key = leaderelect.Key{Kind: leaderelect.KindMember, Name: name}
		if err := json.Unmarshal([]byte(lease.Annotations[annotationStatus]), &rec.Member); err != nil {
			return rec, false, fmt.Errorf("decode status of member %s: %w", name, err)
		}
		rec.Member.Name = name
	default:
		return rec, false, nil
	}
	return rec, true, nil
}

func decodeConfigMap(cm *corev1.ConfigMap) (leaderelect.Record, error) {
	rec := leaderelect.Record{
		Key:     leaderelect.Key{Kind: leaderelect.KindState},
		Version: cm.ResourceVersion,
		WriteID: cm.Annotations[annotationWrite],
	}
	st := &rec.State
	st.Initialize = cm.Data[keyInitialize]
	for key, dst := range map[string]any{keyConfig: &st.Config, keySync: &st.Sync, keySwitchover: &st.Switchover, keyHistory: &st.History} {
		raw, ok := cm.Data[key]
		if !ok || raw == "" {
			continue
		}
		if err := json.Unmarshal([]byte(raw), dst); err != nil {
			return rec, fmt.Errorf("decode %s of configmap %s: %w", key, cm.Name, err)
		}
	}
	return rec, nil
}
