// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline functions and macros that the Rust
 * abstractions in rust/ need. Keep each one trivial: logic belongs in Rust.
 */

#include <crypto/aead.h>
#include <crypto/internal/aead.h>
#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <net/rtnetlink.h>
#include <net/xfrm.h>

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

/* Registered and not yet being unregistered (the state the core's ethtool
 * paths require before calling into the driver). */
bool hbond_helper_dev_is_registered(const struct net_device *dev)
{
	return READ_ONCE(dev->reg_state) == NETREG_REGISTERED;
}

struct net *hbond_helper_dev_net(const struct net_device *dev)
{
	return dev_net(dev);
}

/*
 * What every software device of the project gets after ether_setup: lockless
 * transmit, freed by the core after unregistration, address changes while
 * up, a random address until one is set.
 */
void hbond_helper_setup_software_dev(struct net_device *dev)
{
	dev->lltx = true;
	dev->needs_free_netdev = true;
	dev->priv_flags |= IFF_LIVE_ADDR_CHANGE;
	eth_hw_addr_random(dev);
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
	/*
	 * IFF_NO_ADDRCONF keeps IPv6 from configuring the slave, as bonding.
	 * Bonding takes IFF_SLAVE on a device with IFF_BONDING (a bond master)
	 * to mean one of its own slaves and reads the rx_handler_data as its
	 * struct slave: a bond enslaved to a team does not get IFF_SLAVE.
	 */
	if (slave) {
		if (!(dev->priv_flags & IFF_BONDING))
			dev->flags |= IFF_SLAVE;
		dev->priv_flags |= IFF_NO_ADDRCONF;
	} else {
		dev->flags &= ~IFF_SLAVE;
		dev->priv_flags &= ~IFF_NO_ADDRCONF;
	}
}

/*
 * A software master passes large, partially checksummed packets down: the
 * lower device's transmit path segments and checksums what its hardware
 * cannot (as bonding and team do). These are the features the master offers;
 * which of them are on is the intersection with its lower devices
 * (ndo_fix_features and the vlan/enc/mpls sets, computed in Rust when the
 * lower devices change). Like bonding, a master neither changes network
 * namespace nor limits the MTU beyond what its lower devices accept.
 */
void hbond_helper_set_master_flags(struct net_device *dev)
{
	dev->flags |= IFF_MASTER;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
	dev->netns_immutable = true;
	dev->max_mtu = ETH_MAX_MTU;
	dev->hw_features = NETIF_F_SG | NETIF_F_HW_CSUM | NETIF_F_FRAGLIST |
			   NETIF_F_GSO_SOFTWARE | NETIF_F_GSO_ENCAP_ALL |
			   NETIF_F_HIGHDMA | NETIF_F_RXCSUM;
	dev->features |= dev->hw_features | NETIF_F_GRO;
	dev->vlan_features = dev->hw_features;
}

/*
 * Receive filtering a link type implements (set in setup, before the
 * driver's own setup): a driver with ndo_set_rx_mode takes secondary
 * unicast addresses itself rather than going promiscuous (IFF_UNICAST_FLT);
 * one with ndo_vlan_rx_add_vid/kill_vid filters VLANs, as bonding does.
 */
void hbond_helper_setup_rx_filters(struct net_device *dev, bool unicast_flt, bool vlan_filter)
{
	netdev_features_t vlan = NETIF_F_HW_VLAN_CTAG_FILTER | NETIF_F_HW_VLAN_STAG_FILTER;

	if (unicast_flt)
		dev->priv_flags |= IFF_UNICAST_FLT;
	if (vlan_filter) {
		dev->hw_features |= vlan;
		dev->features |= vlan;
	}
}

/*
 * The address lists of @from go to @to (several destinations may share
 * them); the caller holds @from's address lock, as in ndo_set_rx_mode.
 */
int hbond_helper_dev_addrs_sync(struct net_device *to, struct net_device *from)
{
	int err = dev_uc_sync_multiple(to, from);

	if (err)
		return err;
	return dev_mc_sync_multiple(to, from);
}

/* Undoes hbond_helper_dev_addrs_sync; takes @from's address lock itself. */
void hbond_helper_dev_addrs_unsync(struct net_device *to, struct net_device *from)
{
	dev_uc_unsync(to, from);
	dev_mc_unsync(to, from);
}

void hbond_helper_netif_addr_lock_bh(struct net_device *dev)
{
	netif_addr_lock_bh(dev);
}

void hbond_helper_netif_addr_unlock_bh(struct net_device *dev)
{
	netif_addr_unlock_bh(dev);
}

/* The VLAN filter API (stubs when the kernel has no 802.1Q support). */
int hbond_helper_vlan_vid_add(struct net_device *dev, __be16 proto, u16 vid)
{
	return vlan_vid_add(dev, proto, vid);
}

void hbond_helper_vlan_vid_del(struct net_device *dev, __be16 proto, u16 vid)
{
	vlan_vid_del(dev, proto, vid);
}

int hbond_helper_vlan_vids_add_by_dev(struct net_device *dev, const struct net_device *by_dev)
{
	return vlan_vids_add_by_dev(dev, by_dev);
}

void hbond_helper_vlan_vids_del_by_dev(struct net_device *dev, const struct net_device *by_dev)
{
	vlan_vids_del_by_dev(dev, by_dev);
}

/* The address in the struct sockaddr of ndo_set_mac_address. */
const u8 *hbond_helper_sockaddr_data(const void *addr)
{
	return (const u8 *)((const struct sockaddr *)addr)->sa_data;
}

void hbond_helper_init_list_head(struct list_head *head)
{
	INIT_LIST_HEAD(head);
}

/*
 * The device keeps or passes on each skb it transmits (a pair's peer
 * receives it), so pktgen may not hand it the same skb again (clone_skb).
 */
void hbond_helper_clear_tx_skb_sharing(struct net_device *dev)
{
	dev->priv_flags &= ~IFF_TX_SKB_SHARING;
}

/* Whether the device drops the route of packets it transmits. */
bool hbond_helper_dev_releases_dst(const struct net_device *dev)
{
	unsigned int both = IFF_XMIT_DST_RELEASE | IFF_XMIT_DST_RELEASE_PERM;

	return (dev->priv_flags & both) == both;
}

/* As netdev_compute_master_upper_features: only if allowed at all. */
void hbond_helper_set_releases_dst(struct net_device *dev, bool release)
{
	dev->priv_flags &= ~IFF_XMIT_DST_RELEASE;
	if (release && (dev->priv_flags & IFF_XMIT_DST_RELEASE_PERM))
		dev->priv_flags |= IFF_XMIT_DST_RELEASE;
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

void hbond_helper_dev_get_mac(const struct net_device *dev, u8 *addr)
{
	ether_addr_copy(addr, dev->dev_addr);
}

/*
 * The caller's buffer holds @len bytes; a device whose address is of another
 * length (its type changed) is refused rather than read past the buffer.
 */
int hbond_helper_dev_set_mac(struct net_device *dev, const u8 *addr, size_t len,
			     struct netlink_ext_ack *extack)
{
	struct sockaddr_storage ss = { .ss_family = dev->type };

	if (len != dev->addr_len || len > sizeof(ss.__data))
		return -EINVAL;
	memcpy(ss.__data, addr, len);
	return dev_set_mac_address(dev, (struct sockaddr *)&ss, extack);
}

/*
 * A master taking a lower device's address, as bonding's bond_set_dev_addr
 * (@stolen), or going back to the random address it had before (!@stolen).
 */
int hbond_helper_dev_adopt_mac(struct net_device *dev, const u8 *addr, size_t len,
			       bool stolen)
{
	int err;

	if (len != dev->addr_len)
		return -EINVAL;
	err = dev_pre_changeaddr_notify(dev, addr, NULL);
	if (err)
		return err;
	__dev_addr_set(dev, addr, len);
	dev->addr_assign_type = stolen ? NET_ADDR_STOLEN : NET_ADDR_RANDOM;
	call_netdevice_notifiers(NETDEV_CHANGEADDR, dev);
	return 0;
}

void hbond_helper_eth_random_addr(u8 *addr)
{
	eth_random_addr(addr);
}

bool hbond_helper_dev_mac_is_random(const struct net_device *dev)
{
	return dev->addr_assign_type == NET_ADDR_RANDOM;
}

bool hbond_helper_dev_can_set_mac(const struct net_device *dev)
{
	return dev->netdev_ops->ndo_set_mac_address != NULL;
}

struct net_device *hbond_helper_to_net_dev(struct device *dev)
{
	return to_net_dev(dev);
}

struct kobject *hbond_helper_netdev_kobj(struct net_device *dev)
{
	return &dev->dev.kobj;
}

/*
 * sysfs_remove_group() for a device that may not be in sysfs: ndo_uninit
 * also runs when register_netdevice() fails, before or after device_add(),
 * and sysfs_remove_group() dereferences the kobject's directory. An absent
 * group of a device in sysfs is a no-op for sysfs_remove_group() itself.
 */
void hbond_helper_netdev_remove_group(struct net_device *dev,
				      const struct attribute_group *grp)
{
	if (dev->dev.kobj.sd)
		sysfs_remove_group(&dev->dev.kobj, grp);
}

/* One lockdep class for all of the project's dynamically built attributes. */
void hbond_helper_sysfs_attr_init(struct attribute *attr)
{
	sysfs_attr_init(attr);
}

int hbond_helper_rtnl_trylock_or_restart(void)
{
	return rtnl_trylock() ? 0 : restart_syscall();
}

/* A delayed work with the lockdep class @key (static, one per owner type). */
void hbond_helper_init_delayed_work(struct delayed_work *dw, work_func_t fn, const char *name,
				    struct lock_class_key *key)
{
	INIT_DELAYED_WORK(dw, fn);
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&dw->work.lockdep_map, name, key, 0);
#endif
}

bool hbond_helper_schedule_delayed_work(struct delayed_work *dw, unsigned int delay_ms)
{
	return schedule_delayed_work(dw, msecs_to_jiffies(delay_ms));
}

bool hbond_helper_mod_delayed_work(struct delayed_work *dw, unsigned int delay_ms)
{
	return mod_delayed_work(system_wq, dw, msecs_to_jiffies(delay_ms));
}

u64 hbond_helper_now_ms(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

u32 hbond_helper_skb_get_hash(struct sk_buff *skb)
{
	return skb_get_hash(skb);
}

int hbond_helper_skb_set_eth_source(struct sk_buff *skb, const u8 *addr)
{
	int err = skb_ensure_writable(skb, ETH_HLEN);

	if (err)
		return err;
	ether_addr_copy(eth_hdr(skb)->h_source, addr);
	return 0;
}

u32 hbond_helper_dev_speed_mbps(struct net_device *dev)
{
	struct ethtool_link_ksettings ks;

	if (__ethtool_get_link_ksettings(dev, &ks) || ks.base.speed == SPEED_UNKNOWN)
		return 0;
	return ks.base.speed;
}

rx_handler_func_t *hbond_helper_rx_handler(const struct net_device *dev)
{
	return rcu_dereference(dev->rx_handler);
}

void *hbond_helper_rx_handler_data(const struct net_device *dev)
{
	return rcu_dereference(dev->rx_handler_data);
}

bool hbond_helper_skb_eth_dest_is_multicast(const struct sk_buff *skb)
{
	return skb_headlen(skb) >= ETH_HLEN &&
	       is_multicast_ether_addr(((const struct ethhdr *)skb->data)->h_dest);
}

/* Crypto API (AEAD requests and transforms). */

struct aead_request *hbond_helper_aead_request_alloc(struct crypto_aead *tfm, gfp_t gfp)
{
	return aead_request_alloc(tfm, gfp);
}

void hbond_helper_aead_request_free(struct aead_request *req)
{
	aead_request_free(req);
}

void hbond_helper_aead_request_set_callback(struct aead_request *req, u32 flags,
					    crypto_completion_t complete, void *data)
{
	aead_request_set_callback(req, flags, complete, data);
}

void hbond_helper_aead_request_set_crypt(struct aead_request *req, struct scatterlist *src,
					 struct scatterlist *dst, unsigned int cryptlen, u8 *iv)
{
	aead_request_set_crypt(req, src, dst, cryptlen, iv);
}

void hbond_helper_aead_request_set_ad(struct aead_request *req, unsigned int assoclen)
{
	aead_request_set_ad(req, assoclen);
}

void hbond_helper_crypto_free_aead(struct crypto_aead *tfm)
{
	crypto_free_aead(tfm);
}

unsigned int hbond_helper_crypto_aead_authsize(struct crypto_aead *tfm)
{
	return crypto_aead_authsize(tfm);
}

unsigned int hbond_helper_crypto_aead_ivsize(struct crypto_aead *tfm)
{
	return crypto_aead_ivsize(tfm);
}

/*
 * Runs the pending request @req once more on @tfm (the same algorithm, key
 * and tag size), over @req's own scatterlists, lengths and IV, and waits
 * for it: a driver handing a request to a software implementation, as
 * drivers with a fallback transform do. Process context: may sleep.
 */
int hbond_helper_aead_forward_wait(struct aead_request *req, struct crypto_aead *tfm,
				   bool encrypt)
{
	DECLARE_CRYPTO_WAIT(wait);
	struct aead_request *sub;
	int err;

	might_sleep();
	sub = aead_request_alloc(tfm, GFP_KERNEL);
	if (!sub)
		return -ENOMEM;
	aead_request_set_callback(sub, CRYPTO_TFM_REQ_MAY_BACKLOG | CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_crypt(sub, req->src, req->dst, req->cryptlen, req->iv);
	aead_request_set_ad(sub, req->assoclen);
	err = encrypt ? crypto_aead_encrypt(sub) : crypto_aead_decrypt(sub);
	err = crypto_wait_req(err, &wait);
	aead_request_free(sub);
	return err;
}

/*
 * A request forwarded by hbond_helper_aead_forward(): the pending request it
 * does the work of, whom to tell, and the sub-request with its context last.
 */
struct hbond_aead_forward {
	void (*done)(struct aead_request *req, bool encrypt, void *data, int err);
	struct aead_request *req;
	void *data;
	bool encrypt;
	struct aead_request sub;
};

static void hbond_aead_forward_done(void *data, int err)
{
	struct hbond_aead_forward *fwd = data;
	struct aead_request *req = fwd->req;
	bool encrypt = fwd->encrypt;
	void *owner = fwd->data;
	void (*done)(struct aead_request *, bool, void *, int) = fwd->done;

	/* A backlogged sub-request started: its completion follows. */
	if (err == -EINPROGRESS)
		return;
	kfree_sensitive(fwd);
	local_bh_disable();
	done(req, encrypt, owner, err);
	local_bh_enable();
}

/*
 * Runs the pending request @req once more on @tfm (the same algorithm, key
 * and tag size), over @req's own scatterlists, lengths and IV, without
 * waiting: the result when @tfm completed it synchronously, or -EINPROGRESS
 * when @done(@req, @encrypt, @data, result) follows (with bottom halves
 * disabled), as templates over another implementation do. Any context. 1
 * (nothing done) when no atomic memory is left for the sub-request or the
 * implementation's queue is full (it is backlogged only if @req allows it;
 * a backlogged sub-request is reported as -EINPROGRESS).
 */
int hbond_helper_aead_forward(struct aead_request *req, struct crypto_aead *tfm, bool encrypt,
			      void (*done)(struct aead_request *req, bool encrypt, void *data,
					   int err),
			      void *data)
{
	struct hbond_aead_forward *fwd;
	int err;

	fwd = kmalloc(sizeof(*fwd) + crypto_aead_reqsize(tfm), GFP_ATOMIC | __GFP_NOWARN);
	if (!fwd)
		return 1;
	fwd->done = done;
	fwd->req = req;
	fwd->data = data;
	fwd->encrypt = encrypt;
	aead_request_set_tfm(&fwd->sub, tfm);
	/* A backlog only where the submitter allows one (never sleeping). */
	aead_request_set_callback(&fwd->sub, req->base.flags & CRYPTO_TFM_REQ_MAY_BACKLOG,
				  hbond_aead_forward_done, fwd);
	aead_request_set_crypt(&fwd->sub, req->src, req->dst, req->cryptlen, req->iv);
	aead_request_set_ad(&fwd->sub, req->assoclen);
	err = encrypt ? crypto_aead_encrypt(&fwd->sub) : crypto_aead_decrypt(&fwd->sub);
	if (err == -EINPROGRESS || err == -EBUSY)
		return -EINPROGRESS;
	kfree_sensitive(fwd);
	/* The backing implementation's queue is full: nothing was done. */
	if (err == -ENOSPC)
		return 1;
	return err;
}

const char *hbond_helper_crypto_aead_driver_name(struct crypto_aead *tfm)
{
	return crypto_aead_driver_name(tfm);
}

const char *hbond_helper_crypto_aead_alg_name(struct crypto_aead *tfm)
{
	return crypto_tfm_alg_name(crypto_aead_tfm(tfm));
}

void *hbond_helper_crypto_aead_ctx(struct crypto_aead *tfm)
{
	return crypto_aead_ctx(tfm);
}

struct aead_alg *hbond_helper_crypto_aead_alg(struct crypto_aead *tfm)
{
	return crypto_aead_alg(tfm);
}

struct crypto_aead *hbond_helper_crypto_aead_reqtfm(struct aead_request *req)
{
	return crypto_aead_reqtfm(req);
}

/* Asynchronous AEAD client (rust/crypto/aead_req.rs). */

unsigned int hbond_helper_crypto_aead_reqsize(struct crypto_aead *tfm)
{
	return crypto_aead_reqsize(tfm);
}

void hbond_helper_aead_request_set_tfm(struct aead_request *req, struct crypto_aead *tfm)
{
	aead_request_set_tfm(req, tfm);
}

unsigned int hbond_helper_crypto_aead_alignmask(struct crypto_aead *tfm)
{
	return crypto_aead_alignmask(tfm);
}

bool hbond_helper_crypto_aead_is_async(struct crypto_aead *tfm)
{
	return crypto_aead_tfm(tfm)->__crt_alg->cra_flags & CRYPTO_ALG_ASYNC;
}

void hbond_helper_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len)
{
	sg_set_buf(sg, buf, len);
}

void hbond_helper_inflight_inc(atomic_long_t *count)
{
	atomic_long_inc(count);
}

/*
 * Fully ordered (a value-returning atomic), so everything the request's
 * side did happens before a waiter sees zero; wake_up_var() only hashes the
 * address, it never reads *count (which a woken waiter may have freed).
 */
void hbond_helper_inflight_dec(atomic_long_t *count)
{
	if (atomic_long_dec_and_test(count))
		wake_up_var(count);
}

long hbond_helper_inflight_read(atomic_long_t *count)
{
	return atomic_long_read(count);
}

void hbond_helper_inflight_wait(atomic_long_t *count)
{
	might_sleep();
	wait_var_event(count, atomic_long_read_acquire(count) == 0);
}

void hbond_helper_might_sleep(void)
{
	might_sleep();
}

struct sk_buff *hbond_helper_alloc_skb_zeroed(unsigned int len, gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb(len, gfp);

	if (skb)
		skb_put_zero(skb, len);
	return skb;
}

/* Completion callbacks (xfrm, AF_ALG) expect to run with BHs off, as from
 * a softirq; cryptd completes the same way.
 */
void hbond_helper_aead_request_complete_bh(struct aead_request *req, int err)
{
	local_bh_disable();
	aead_request_complete(req, err);
	local_bh_enable();
}

/*
 * Declared in crypto/internal.h (not installed for out-of-tree modules) and
 * exported for algorithm providers and templates.
 */
extern struct rw_semaphore crypto_alg_sem;
void crypto_remove_spawns(struct crypto_alg *alg, struct list_head *list,
			  struct crypto_alg *nalg);
void crypto_remove_final(struct list_head *list);

/*
 * Takes a registered alg off the crypto API, as crypto_unregister_alg()
 * does, in a critical section of the caller's: marks it dead, takes it off
 * crypto_alg_list (so no lookup finds it) and kills the template instances
 * built on it (their spawns go dead, so none of them can take a new
 * reference either). Returns the instances to put, outside the lock.
 */
static void hbond_crypto_remove_alg_locked(struct crypto_alg *alg,
					   struct list_head *to_put)
{
	lockdep_assert_held_write(&crypto_alg_sem);
	alg->cra_flags |= CRYPTO_ALG_DEAD;
	list_del_init(&alg->cra_list);
	crypto_remove_spawns(alg, to_put, NULL);
}

/*
 * Unregisters alg if nobody holds a reference besides the registration's
 * own. The check and the removal are one critical section under
 * crypto_alg_sem held for writing: every new reference is taken under it
 * (lookups walk crypto_alg_list, template instances take theirs through
 * spawns, both under crypto_alg_sem), or by someone who already holds one
 * (a self-test larval, a transform). crypto_unregister_alg() cannot be used:
 * it checks the count only after dropping the lock, then WARNs and keeps
 * the alg half-removed.
 *
 * Fault injection (tests): if pause_ms is not NULL and alg is unused, the
 * value is taken from *pause_ms (leaving 0, so a pause happens once) and
 * the helper sleeps that long, at most HBOND_CRYPTO_UNREGISTER_PAUSE_MAX_MS,
 * between the check and the removal, still holding crypto_alg_sem for
 * writing: every lookup, registration and template instantiation waits
 * for the removal meanwhile.
 */
bool hbond_helper_crypto_unregister_aead_if_unused(struct aead_alg *alg, u32 *pause_ms)
{
	struct crypto_alg *base = &alg->base;
	LIST_HEAD(to_put);
	bool unused;
	u32 pause;

	down_write(&crypto_alg_sem);
	unused = refcount_read(&base->cra_refcnt) == 1;
	if (unused && pause_ms) {
		pause = min_t(u32, xchg(pause_ms, 0), HBOND_CRYPTO_UNREGISTER_PAUSE_MAX_MS);
		if (pause) {
			pr_info("%s: unused, removed after an injected pause of %u ms\n",
				base->cra_driver_name, pause);
			msleep(pause);
		}
	}
	if (unused)
		hbond_crypto_remove_alg_locked(base, &to_put);
	up_write(&crypto_alg_sem);
	crypto_remove_final(&to_put);
	return unused;
}

/*
 * Unregisters alg even if transforms still use it: they keep working (the
 * driver must keep the alg's memory and serve them), no new user can find
 * it. hbond_helper_crypto_aead_unused() tells when the memory may go.
 */
void hbond_helper_crypto_unregister_aead_now(struct aead_alg *alg)
{
	LIST_HEAD(to_put);

	down_write(&crypto_alg_sem);
	hbond_crypto_remove_alg_locked(&alg->base, &to_put);
	up_write(&crypto_alg_sem);
	crypto_remove_final(&to_put);
}

/*
 * Whether an unregistered alg has no user left. Once unregistered, the
 * count only falls (see hbond_helper_crypto_unregister_aead_if_unused()),
 * so "1" stays true; the acquire orders the last user's accesses before the
 * caller frees the memory (refcount_dec() releases).
 */
bool hbond_helper_crypto_aead_unused(const struct aead_alg *alg)
{
	if (refcount_read(&alg->base.cra_refcnt) != 1)
		return false;
	smp_acquire__after_ctrl_dep();
	return true;
}

bool hbond_helper_crypto_alg_tested(const struct aead_alg *alg)
{
	return READ_ONCE(alg->base.cra_flags) & CRYPTO_ALG_TESTED;
}

void hbond_helper_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void hbond_helper_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

void hbond_helper_local_bh_disable(void)
{
	local_bh_disable();
}

void hbond_helper_local_bh_enable(void)
{
	local_bh_enable();
}

u64 hbond_helper_now_ns(void)
{
	return ktime_get_ns();
}

/* An hrtimer sleep with little slack: fsleep() may sleep twice as long. */
void hbond_helper_sleep_us(unsigned long usecs)
{
	usleep_range(usecs, usecs + 50);
}

bool hbond_helper_queue_delayed_work_unbound(struct delayed_work *dw, unsigned int delay_ms)
{
	return queue_delayed_work(system_unbound_wq, dw, msecs_to_jiffies(delay_ms));
}

/* Packet data and headers. */

int hbond_helper_skb_linearize_cow(struct sk_buff *skb)
{
	return skb_linearize_cow(skb);
}

bool hbond_helper_skb_transport_header_was_set(const struct sk_buff *skb)
{
	return skb_transport_header_was_set(skb);
}

int hbond_helper_skb_transport_offset(const struct sk_buff *skb)
{
	return skb_transport_offset(skb);
}

unsigned char *hbond_helper_skb_network_header(const struct sk_buff *skb)
{
	return skb_network_header(skb);
}

unsigned char *hbond_helper_skb_tail_pointer(const struct sk_buff *skb)
{
	return skb_tail_pointer(skb);
}

u32 hbond_helper_skb_mark(const struct sk_buff *skb)
{
	return skb->mark;
}

/* IPsec offload metadata. */

struct xfrm_offload *hbond_helper_xfrm_offload(struct sk_buff *skb)
{
	return xfrm_offload(skb);
}

void hbond_helper_secpath_reset(struct sk_buff *skb)
{
	secpath_reset(skb);
}

struct sec_path *hbond_helper_skb_sec_path(const struct sk_buff *skb)
{
	return skb_sec_path(skb);
}

void hbond_helper_xfrm_state_put(struct xfrm_state *x)
{
	xfrm_state_put(x);
}

void hbond_helper_xfrm_state_hold(struct xfrm_state *x)
{
	xfrm_state_hold(x);
}
