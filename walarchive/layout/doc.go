// Package layout names the objects of one cluster's archive:
//
//	<prefix>/<cluster>/<uid>/<major>/wal/<WAL file name>
//	<prefix>/<cluster>/<uid>/<major>/basebackups/<backup id>/<part>
//
// Why these components: the cluster name is what people look for in a
// bucket; the UID (the Kubernetes object's UID) keeps a cluster deleted and
// recreated under the same name from appending to, or restoring from, its
// predecessor's WAL, whose timelines and LSNs collide with the new one's;
// the major version keeps WAL of an upgraded cluster apart, because WAL is
// not readable across majors. The prefix is optional and lets unrelated
// deployments share a bucket.
//
// Keys carry no compression or encryption extension: the codec header of
// each object says how it is encoded, so changing the compression setting
// never changes where a segment is found, and a restore never has to probe
// several spellings of one name (a probe that misses is indistinguishable
// from a gap).
//
// What it deliberately does not do: no I/O, no listing, no parsing of WAL
// names beyond recognising the WAL prefix (see walname).
package layout
