// SPDX-License-Identifier: Apache-2.0
/* See naming.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include "naming.h"

uint64_t sw_naming__user_dev(uint64_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

uint64_t sw_naming__kernel_dev(uint64_t udev)
{
	return ((uint64_t)major(udev) << 20) | minor(udev);
}

void sw_naming__stream_id(const struct sw_event *ev, struct sw_stream_id *k)
{
	const struct sw_data_rec *d = ev->data;

	memset(k, 0, sizeof(*k));
	k->kind = d->art_kind;
	switch (d->art_kind) {
	case SW_AK_FILE:
	case SW_AK_PIPE:
		k->a = d->dev;
		k->b = d->ino;
		break;
	case SW_AK_SOCKET:
	case SW_AK_TLS: /* the plaintext of a TLS connection: a stream apart from its socket's */
		k->tgid = ev->hdr->tgid;
		k->a = (uint32_t)d->fd;
		k->b = d->ino;
		break;
	default:
		k->a = d->rdev;
		break;
	}
	if (ev->hdr->flags & SW_F_RESCAN) {
		/* One read-back per writer at a time: the writer is part of the key. */
		k->kind |= SW_STREAM_RESCAN;
		k->tgid = ev->hdr->tgid;
	}
}

static void name_socket(const struct sw_event *ev, struct sw_artifact *a)
{
	const struct sw_data_rec *d = ev->data;
	char ip[INET6_ADDRSTRLEN];

	a->type = SW_ART_SOCKET;
	if (d->art_kind == SW_AK_TLS) {
		/* The socket the writer's thread wrote last; unknown before its first write. */
		a->type = SW_ART_TLS;
		if (d->family != AF_INET && d->family != AF_INET6)
			return;
	} else if (d->family == AF_UNIX) {
		snprintf(a->proto, sizeof(a->proto), "unix");
		snprintf(a->peer, sizeof(a->peer), "%.*s", (int)ev->path_len, ev->path);
		return;
	}
	if (a->type == SW_ART_SOCKET)
		snprintf(a->proto, sizeof(a->proto), "%s",
			 d->protocol == IPPROTO_UDP   ? "udp"
			 : d->protocol == IPPROTO_TCP ? "tcp"
						      : "ip");
	if (d->family == AF_INET6) {
		inet_ntop(AF_INET6, d->addr, ip, sizeof(ip));
		snprintf(a->peer, sizeof(a->peer), "[%s]:%u", ip, d->port);
	} else {
		inet_ntop(AF_INET, d->addr, ip, sizeof(ip));
		snprintf(a->peer, sizeof(a->peer), "%s:%u", ip, d->port);
	}
}

void sw_naming__data(const struct sw_event *ev, const char *path, struct sw_artifact *a)
{
	const struct sw_data_rec *d = ev->data;

	memset(a, 0, sizeof(*a));
	switch (d->art_kind) {
	case SW_AK_FILE:
		a->type = SW_ART_FILE;
		a->dev = sw_naming__user_dev(d->dev);
		a->ino = d->ino;
		a->gen = d->gen;
		break;
	case SW_AK_PIPE:
		a->type = SW_ART_PIPE;
		a->dev = d->dev;
		a->ino = d->ino;
		return;
	case SW_AK_TTY:
		a->type = SW_ART_TTY;
		break;
	default:
		name_socket(ev, a);
		return;
	}
	if (path)
		snprintf(a->path, sizeof(a->path), "%s", path);
}
