// Package walsvc is the long-lived WAL service inside tenure-agent that
// archive_command and restore_command hand off to over a unix socket.
// (Full package documentation follows with the measurements.)
package walsvc
