/* SPDX-License-Identifier: ISC */
#ifndef LEMF_FILTERS_H
#define LEMF_FILTERS_H

/*
 * The seccomp filters of clearli-lemf's processes (lib/sandbox.h), one
 * per process.  Each returns 0 once installed, or an error described in
 * err.
 *
 * front   its sockets: the listener (accept4 on LEMF_FRONT_LISTEN only),
 *         the MDFs' connections, the writer's and the parent's sockets
 *         (read, write, recv*, send*, setsockopt, getsockopt, shutdown,
 *         fcntl, close), its event loop.  No open, openat, socket,
 *         connect, bind, execve, ptrace, kill.
 * writer  its files, all relative to the output directory on
 *         LEMF_WRITER_DIR (openat and renameat on that descriptor only),
 *         read, write, pread64, lseek, fdatasync, fsync, syncfs,
 *         ftruncate, fstat, fcntl, close, its sockets (recvmsg,
 *         sendmsg), its event loop.  No open, socket, connect, accept,
 *         bind, execve, ptrace, kill, clone.
 * parent  its roles' sockets (read, write, recvmsg, sendmsg, close),
 *         signals (kill, wait4, waitid), its event loop.  No open,
 *         openat, socket, connect, accept, execve, ptrace.  With
 *         --tls-crl (lemf_filter_parent_crl): also openat for reading
 *         only, and stat, to hand the CRL file to the front when it
 *         changes.
 */

#include <stddef.h>

#define LEMF_FRONT_LISTEN 4 /* the front's listener */
#define LEMF_FRONT_WRITER 5 /* the front's socket to the writer */
#define LEMF_WRITER_LINK  4 /* the writer's socket to the front */
#define LEMF_WRITER_DIR   5 /* the writer's output directory */

int lemf_filter_front(char *err, size_t errlen);
int lemf_filter_writer(char *err, size_t errlen);
int lemf_filter_parent(char *err, size_t errlen);
/* The parent's with --tls-crl: also opens files for reading. */
int lemf_filter_parent_crl(char *err, size_t errlen);

#endif /* LEMF_FILTERS_H */
