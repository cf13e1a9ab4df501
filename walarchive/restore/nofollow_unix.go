//go:build unix

package restore

import "syscall"

const noFollow = syscall.O_NOFOLLOW
