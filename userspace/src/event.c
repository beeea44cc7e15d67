// SPDX-License-Identifier: Apache-2.0
/* See event.h. */
#include <errno.h>
#include <string.h>

#include "event.h"

int sw_event__decode(const void *rec, size_t size, struct sw_event *ev)
{
	const struct sw_hdr *h = rec;
	const char *tail;

	memset(ev, 0, sizeof(*ev));
	if (size < sizeof(*h) || h->size > size)
		return -EBADMSG;
	size = h->size;
	ev->hdr = h;
	switch (h->type) {
	case SW_EV_FORK:
		if (size < sizeof(*ev->fork))
			return -EBADMSG;
		ev->fork = rec;
		return 0;
	case SW_EV_EXIT:
		if (size < sizeof(*ev->exit))
			return -EBADMSG;
		ev->exit = rec;
		return 0;
	case SW_EV_EXEC:
		if (size < sizeof(*ev->exec))
			return -EBADMSG;
		ev->exec = rec;
		if (ev->exec->filename_len > SW_PATH_LEN || ev->exec->args_len > SW_ARGS_LEN ||
		    ev->exec->env_len > SW_ENV_LEN ||
		    sizeof(*ev->exec) + (size_t)ev->exec->filename_len + ev->exec->args_len +
				    ev->exec->env_len >
			    size)
			return -EBADMSG;
		tail = (const char *)(ev->exec + 1);
		ev->filename = tail;
		ev->filename_len = ev->exec->filename_len;
		ev->args = tail + ev->filename_len;
		ev->args_len = ev->exec->args_len;
		ev->env = ev->args + ev->args_len;
		ev->env_len = ev->exec->env_len;
		return 0;
	case SW_EV_DATA:
		if (size < sizeof(*ev->data))
			return -EBADMSG;
		ev->data = rec;
		if (ev->data->path_len > SW_PATH_LEN || ev->data->data_len > SW_CHUNK ||
		    sizeof(*ev->data) + (size_t)ev->data->path_len + ev->data->data_len > size)
			return -EBADMSG;
		tail = (const char *)(ev->data + 1);
		ev->path = tail;
		ev->path_len = ev->data->path_len;
		ev->bytes = (const uint8_t *)tail + ev->path_len;
		ev->bytes_len = ev->data->data_len;
		if (h->flags & SW_F_COPY) {
			if (ev->data->data_len || ev->data->src_path_len > SW_PATH_LEN ||
			    sizeof(*ev->data) + (size_t)ev->data->path_len +
					    ev->data->src_path_len >
				    size)
				return -EBADMSG;
			ev->src_path = tail + ev->path_len;
			ev->src_path_len = ev->data->src_path_len;
		}
		return 0;
	case SW_EV_OPEN:
		if (size < sizeof(*ev->open))
			return -EBADMSG;
		ev->open = rec;
		if (ev->open->path_len > SW_PATH_LEN ||
		    sizeof(*ev->open) + (size_t)ev->open->path_len > size)
			return -EBADMSG;
		ev->path = (const char *)(ev->open + 1);
		ev->path_len = ev->open->path_len;
		return 0;
	case SW_EV_RENAME:
		if (size < sizeof(*ev->rename))
			return -EBADMSG;
		ev->rename = rec;
		if (ev->rename->dir_len > SW_PATH_LEN || ev->rename->name_len > SW_PATH_LEN ||
		    ev->rename->target_len > SW_PATH_LEN ||
		    sizeof(*ev->rename) + (size_t)ev->rename->dir_len + ev->rename->name_len +
				    ev->rename->target_len >
			    size)
			return -EBADMSG;
		ev->path = (const char *)(ev->rename + 1);
		ev->path_len = ev->rename->dir_len;
		ev->src_path = ev->path + ev->path_len;
		ev->src_path_len = ev->rename->name_len;
		ev->filename = ev->src_path + ev->src_path_len;
		ev->filename_len = ev->rename->target_len;
		return 0;
	case SW_EV_CHANNEL:
		if (size < sizeof(*ev->channel))
			return -EBADMSG;
		ev->channel = rec;
		if (ev->channel->path_len > SW_PATH_LEN ||
		    sizeof(*ev->channel) + (size_t)ev->channel->path_len > size)
			return -EBADMSG;
		ev->path = (const char *)(ev->channel + 1);
		ev->path_len = ev->channel->path_len;
		return 0;
	case SW_EV_SESSION:
		if (size < sizeof(*ev->session))
			return -EBADMSG;
		ev->session = rec;
		return 0;
	case SW_EV_READER:
		if (size < sizeof(*ev->reader))
			return -EBADMSG;
		ev->reader = rec;
		if (ev->reader->exe_len > SW_PATH_LEN ||
		    sizeof(*ev->reader) + (size_t)ev->reader->exe_len > size)
			return -EBADMSG;
		ev->path = (const char *)(ev->reader + 1);
		ev->path_len = ev->reader->exe_len;
		return 0;
	case SW_EV_TICK:
		if (size < sizeof(*ev->tick))
			return -EBADMSG;
		ev->tick = rec;
		return 0;
	case SW_EV_PROC:
		if (size < sizeof(*ev->proc))
			return -EBADMSG;
		ev->proc = rec;
		if (ev->proc->exe_len > SW_PATH_LEN || ev->proc->args_len > SW_ARGS_LEN ||
		    ev->proc->cgroup_len > SW_PATH_LEN ||
		    sizeof(*ev->proc) + (size_t)ev->proc->exe_len + ev->proc->args_len +
				    ev->proc->cgroup_len >
			    size)
			return -EBADMSG;
		ev->path = (const char *)(ev->proc + 1);
		ev->path_len = ev->proc->exe_len;
		ev->args = ev->path + ev->path_len;
		ev->args_len = ev->proc->args_len;
		ev->cgroup = ev->args + ev->args_len;
		ev->cgroup_len = ev->proc->cgroup_len;
		return 0;
	case SW_EV_GUARDED:
		if (size < sizeof(*ev->guarded))
			return -EBADMSG;
		ev->guarded = rec;
		return 0;
	case SW_EV_CLOSED:
		if (size < sizeof(*ev->closed))
			return -EBADMSG;
		ev->closed = rec;
		return 0;
	case SW_EV_RULES:
		if (size < sizeof(*ev->rules))
			return -EBADMSG;
		ev->rules = rec;
		if (ev->rules->len > SW_RULES_REC_MAX ||
		    sizeof(*ev->rules) + (size_t)ev->rules->len > size)
			return -EBADMSG;
		ev->path = (const char *)(ev->rules + 1);
		ev->path_len = ev->rules->len;
		return 0;
	case SW_EV_RENAMED:
		if (size < sizeof(*ev->renamed))
			return -EBADMSG;
		ev->renamed = rec;
		if (ev->renamed->path_len > SW_PATH_LEN ||
		    sizeof(*ev->renamed) + (size_t)ev->renamed->path_len > size)
			return -EBADMSG;
		ev->path = (const char *)(ev->renamed + 1);
		ev->path_len = ev->renamed->path_len;
		return 0;
	case SW_EV_LOSS:
		if (size < sizeof(*ev->loss))
			return -EBADMSG;
		ev->loss = rec;
		return 0;
	default:
		return -EBADMSG;
	}
}
