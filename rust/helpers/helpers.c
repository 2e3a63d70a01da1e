// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline functions and macros that the Rust
 * abstractions in rust/ need. Keep each one trivial: logic belongs in Rust.
 */

#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/etherdevice.h>
#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/rtnetlink.h>

#include "helpers.h"

void *hbond_helper_netdev_priv(const struct net_device *dev)
{
	return netdev_priv(dev);
}

void hbond_helper_dev_hold(struct net_device *dev)
{
	dev_hold(dev);
}

void hbond_helper_dev_put(struct net_device *dev)
{
	dev_put(dev);
}

struct net *hbond_helper_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

void hbond_helper_eth_hw_addr_random(struct net_device *dev)
{
	eth_hw_addr_random(dev);
}

void hbond_helper_dev_lltx_enable(struct net_device *dev)
{
	dev->lltx = true;
}

void hbond_helper_dev_needs_free_netdev(struct net_device *dev)
{
	dev->needs_free_netdev = true;
}

bool hbond_helper_netif_is_master(const struct net_device *dev)
{
	return netif_is_bond_master(dev) || netif_is_team_master(dev) ||
	       netif_is_bridge_master(dev) || netif_is_ovs_master(dev) ||
	       netif_is_macvlan_port(dev) || (dev->priv_flags & IFF_BONDING);
}

bool hbond_helper_netif_is_slave(const struct net_device *dev)
{
	return netif_is_bond_slave(dev) || netif_is_team_port(dev) ||
	       netif_is_bridge_port(dev) || netif_is_ovs_port(dev);
}

bool hbond_helper_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

bool hbond_helper_netif_carrier_ok(const struct net_device *dev)
{
	return netif_carrier_ok(dev);
}

bool hbond_helper_netif_is_rx_handler_busy(const struct net_device *dev)
{
	return netdev_is_rx_handler_busy((struct net_device *)dev);
}

void hbond_helper_set_slave_flags(struct net_device *dev, bool slave)
{
	if (slave)
		dev->flags |= IFF_SLAVE;
	else
		dev->flags &= ~IFF_SLAVE;
}

void hbond_helper_set_master_flags(struct net_device *dev)
{
	dev->flags |= IFF_MASTER;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
}

void hbond_helper_netif_tx_start_all_queues(struct net_device *dev)
{
	netif_tx_start_all_queues(dev);
}

void hbond_helper_netif_tx_stop_all_queues(struct net_device *dev)
{
	netif_tx_stop_all_queues(dev);
}

int hbond_helper_dev_validate_ether(const struct net_device *dev, struct nlattr *tb[])
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN)
			return -EINVAL;
		if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS])))
			return -EADDRNOTAVAIL;
	}
	return 0;
}

void hbond_helper_kfree_skb(struct sk_buff *skb)
{
	kfree_skb(skb);
}

struct net_device *hbond_helper_skb_dev(const struct sk_buff *skb)
{
	return skb->dev;
}

void hbond_helper_skb_set_dev(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
}

unsigned int hbond_helper_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}

int hbond_helper_dev_queue_xmit(struct sk_buff *skb)
{
	return dev_queue_xmit(skb);
}

struct sk_buff *hbond_helper_skb_share_check(struct sk_buff *skb, gfp_t pri)
{
	return skb_share_check(skb, pri);
}

void hbond_helper_kunit_fail(struct kunit *test, const char *file, int line,
			     const char *condition)
{
	KUNIT_FAIL(test, "%s:%d: expectation failed: %s", file, line, condition);
}

struct kunit *hbond_helper_kunit_get_current_test(void)
{
	return kunit_get_current_test();
}

struct net_device *hbond_helper_netdev_notifier_info_to_dev(const struct netdev_notifier_info *info)
{
	return netdev_notifier_info_to_dev(info);
}

void hbond_helper_put_net(struct net *net)
{
	put_net(net);
}

void hbond_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void hbond_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}
