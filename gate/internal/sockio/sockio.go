// Package sockio writes a message and waits for its answer on one socket without the empty read
// that Go's own Read makes first.
//
// Go's Read always tries the socket before it waits, because it resets the socket's readiness
// flag on entry and so cannot trust an earlier wake-up. On a request/answer exchange that read
// finds nothing (EAGAIN) once per call: a system call per request on either side of the gate,
// which nginx does not make (it waits for readiness after a read that did not fill its buffer).
// WriteThenAwait writes from inside a raw read instead, after that reset: whatever answer arrives
// after the write then signals the wait, so waiting first loses no wake-up.
package sockio

import (
	"net"
	"syscall"
)

// WriteThenAwait writes b to c and returns once c can be read, its read deadline passed or it
// failed. A message the socket does not take at once is finished with c.Write and the wait is
// left to the next Read (as without this function). raw must be c's syscall.RawConn; with a nil
// raw it only writes.
func WriteThenAwait(c net.Conn, raw syscall.RawConn, b []byte) error {
	if raw == nil {
		_, err := c.Write(b)
		return err
	}
	written, calls := 0, 0
	var writeErr error
	err := raw.Read(func(fd uintptr) bool {
		calls++
		if calls > 1 {
			return true // readable (or the runtime returns a deadline or a close)
		}
		for written < len(b) {
			n, err := syscall.Write(int(fd), b[written:])
			if n > 0 {
				written += n
			}
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				if err != syscall.EAGAIN {
					writeErr = err
				}
				return true
			}
		}
		return false // all written: wait until the answer can be read
	})
	switch {
	case writeErr != nil:
		return &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: writeErr}
	case calls == 0:
		return err // refused before writing: the deadline passed or the connection is closed
	case written < len(b):
		_, err := c.Write(b[written:])
		return err
	}
	return err
}

// Raw is c's syscall.RawConn, or nil when c is not a socket.
func Raw(c net.Conn) syscall.RawConn {
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			return raw
		}
	}
	return nil
}
