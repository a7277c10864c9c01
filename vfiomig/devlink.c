// SPDX-License-Identifier: GPL-2.0-or-later
/* Generic netlink to the kernel's devlink family through libmnl, with extended acks; pure reply callbacks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/devlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "devlink.h"

/* Newer than the build host's headers (uAPI 6.2): the port-function capabilities attribute. */
#define VM_DEVLINK_PORT_FN_ATTR_CAPS 4

struct reply_ctx {
	struct devlink *dl;
	int (*cb)(const struct nlmsghdr *nlh, void *data);
	void *data;
};

/* The extack TLVs of an error or a dump's end, from OFF bytes into the payload: keep the message. */
static void keep_extack(const struct nlmsghdr *nlh, unsigned int off, struct devlink *dl)
{
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	mnl_attr_for_each(a, nlh, off)
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(dl->extack, sizeof(dl->extack), "%s", mnl_attr_get_str(a));
}

/* NLMSG_ERROR: keep the kernel's extack message, return its errno. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct reply_ctx *c = data;
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err)))
		return MNL_CB_ERROR;
	if (err->error == 0)
		return MNL_CB_STOP; /* the ack */
	/* The TLVs follow the error and, unless capped, the echoed request. */
	off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	keep_extack(nlh, off, c->dl);
	errno = -err->error;
	return MNL_CB_ERROR;
}

/*
 * NLMSG_DONE ends a dump; it carries an int, the dump's error if it
 * failed part way, with extack TLVs after it. Without this entry in the
 * control array libmnl would ignore it and wait for more forever.
 */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply_ctx *c = data;
	int err = 0;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(int));
	if (err >= 0)
		return MNL_CB_STOP;
	keep_extack(nlh, sizeof(int), c->dl);
	errno = -err;
	return MNL_CB_ERROR;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reply_ctx *c = data;

	return c->cb ? c->cb(nlh, c->data) : MNL_CB_OK;
}

/* Sends NLH and runs CB on each reply until the ack or the end of a dump. */
static int talk(struct devlink *dl, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct reply_ctx c = { dl, cb, data };
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_cb, [NLMSG_DONE] = done_cb };
	ssize_t n;
	int ret;

	dl->extack[0] = '\0';
	nlh->nlmsg_seq = ++dl->seq;
	if (mnl_socket_sendto(dl->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(dl->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run2(buf, n, dl->seq, dl->portid, data_cb, &c, ctl, NLMSG_MIN_TYPE);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static struct nlmsghdr *genl_msg(char *buf, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static int family_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    !mnl_attr_validate(a, MNL_TYPE_U16))
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
	return MNL_CB_OK;
}

int devlink_open(struct devlink *dl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int one = 1, ret;

	memset(dl, 0, sizeof(*dl));
	dl->seq = time(NULL);
	dl->nl = mnl_socket_open(NETLINK_GENERIC);
	if (!dl->nl)
		return -errno;
	if (mnl_socket_bind(dl->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto close_nl;
	}
	dl->portid = mnl_socket_get_portid(dl->nl);
	/* The kernel explains its refusals only to those who ask. */
	mnl_socket_setsockopt(dl->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	nlh = genl_msg(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, NLM_F_ACK);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME);
	ret = talk(dl, nlh, family_cb, &dl->family);
	if (!ret && !dl->family)
		ret = -ENOENT;
	if (ret)
		goto close_nl;
	return 0;

close_nl:
	mnl_socket_close(dl->nl);
	dl->nl = NULL;
	return ret;
}

void devlink_close(struct devlink *dl)
{
	if (dl->nl)
		mnl_socket_close(dl->nl);
	dl->nl = NULL;
}

static int caps_cb(const struct nlattr *a, void *data)
{
	struct devlink_port *p = data;
	const uint32_t *bf;

	if (mnl_attr_get_type(a) == VM_DEVLINK_PORT_FN_ATTR_CAPS &&
	    mnl_attr_get_payload_len(a) >= 2 * sizeof(uint32_t)) {
		bf = mnl_attr_get_payload(a);
		p->caps = bf[0];
		p->caps_supported = bf[1];
		p->has_caps = true;
	}
	return MNL_CB_OK;
}

static int port_attr_cb(const struct nlattr *a, void *data)
{
	struct devlink_port *p = data;

	switch (mnl_attr_get_type(a)) {
	case DEVLINK_ATTR_BUS_NAME:
		if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(p->bus, sizeof(p->bus), "%s", mnl_attr_get_str(a));
		break;
	case DEVLINK_ATTR_DEV_NAME:
		if (!mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			snprintf(p->dev, sizeof(p->dev), "%s", mnl_attr_get_str(a));
		break;
	case DEVLINK_ATTR_PORT_INDEX:
		if (!mnl_attr_validate(a, MNL_TYPE_U32))
			p->index = mnl_attr_get_u32(a);
		break;
	case DEVLINK_ATTR_PORT_FLAVOUR:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			p->flavour = mnl_attr_get_u16(a);
		break;
	case DEVLINK_ATTR_PORT_PCI_PF_NUMBER:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			p->pf = mnl_attr_get_u16(a);
		break;
	case DEVLINK_ATTR_PORT_PCI_VF_NUMBER:
		if (!mnl_attr_validate(a, MNL_TYPE_U16))
			p->vf = mnl_attr_get_u16(a);
		break;
	case DEVLINK_ATTR_PORT_EXTERNAL:
		if (!mnl_attr_validate(a, MNL_TYPE_U8))
			p->external = mnl_attr_get_u8(a);
		break;
	case DEVLINK_ATTR_PORT_FUNCTION:
		mnl_attr_parse_nested(a, caps_cb, p);
		break;
	}
	return MNL_CB_OK;
}

struct port_search {
	const char *bus, *dev;
	int vf;
	struct devlink_port *found;
	bool hit;
};

/* One port of the dump: keep it if it is the VF port we look for. */
static int port_cb(const struct nlmsghdr *nlh, void *data)
{
	struct port_search *s = data;
	struct devlink_port p = { .pf = -1, .vf = -1 };

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), port_attr_cb, &p);
	/* Older kernels dump every instance's ports whatever we asked: filter here. */
	if (!strcmp(p.bus, s->bus) && !strcmp(p.dev, s->dev) &&
	    p.flavour == DEVLINK_PORT_FLAVOUR_PCI_VF && p.vf == s->vf && !p.external &&
	    !s->hit) {
		*s->found = p;
		s->hit = true;
	}
	return MNL_CB_OK;
}

int devlink_vf_port(struct devlink *dl, const char *bus, const char *dev, int vf,
		    struct devlink_port *port)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct port_search s = { bus, dev, vf, port, false };
	struct nlmsghdr *nlh;
	int ret;

	nlh = genl_msg(buf, dl->family, DEVLINK_CMD_PORT_GET, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_BUS_NAME, bus);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_DEV_NAME, dev);
	ret = talk(dl, nlh, port_cb, &s);
	if (ret)
		return ret;
	return s.hit ? 0 : -ENODEV;
}

static int mode_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == DEVLINK_ATTR_ESWITCH_MODE &&
	    !mnl_attr_validate(a, MNL_TYPE_U16))
		*(int *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int mode_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), mode_attr_cb, data);
	return MNL_CB_OK;
}

int devlink_eswitch_mode(struct devlink *dl, const char *bus, const char *dev, int *mode)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	*mode = -1;
	nlh = genl_msg(buf, dl->family, DEVLINK_CMD_ESWITCH_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_BUS_NAME, bus);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_DEV_NAME, dev);
	return talk(dl, nlh, mode_cb, mode);
}

int devlink_set_migratable(struct devlink *dl, const struct devlink_port *port, bool on)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t bf[2] = { on ? DEVLINK_CAP_MIGRATABLE : 0, DEVLINK_CAP_MIGRATABLE };
	struct nlattr *nest;
	struct nlmsghdr *nlh;

	nlh = genl_msg(buf, dl->family, DEVLINK_CMD_PORT_SET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_BUS_NAME, port->bus);
	mnl_attr_put_strz(nlh, DEVLINK_ATTR_DEV_NAME, port->dev);
	mnl_attr_put_u32(nlh, DEVLINK_ATTR_PORT_INDEX, port->index);
	nest = mnl_attr_nest_start(nlh, DEVLINK_ATTR_PORT_FUNCTION);
	mnl_attr_put(nlh, VM_DEVLINK_PORT_FN_ATTR_CAPS, sizeof(bf), bf);
	mnl_attr_nest_end(nlh, nest);
	return talk(dl, nlh, NULL, NULL);
}
