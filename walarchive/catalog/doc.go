// Package catalog is the list of base backups in an archive and the
// format of their completion marker, backup.json.
//
// A backup is complete exactly when its backup.json exists: the backup
// writer stores it last, after every archive, with Create (never replacing
// one), and Delete removes it first. So a crash at any point leaves either
// a complete backup or an "incomplete" one that List reports separately
// and restore never picks; no reader ever sees a complete-looking backup
// with a missing part.
//
// IDs are the backup's UTC start time to the second (20261123T101500Z):
// they sort by time as plain strings, which is the order List returns and
// the order restore and retention reason in.
//
// What it deliberately does not do: no choosing (restore.Plan and
// retention.Plan decide), no reading of the archives themselves.
package catalog
