/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for static inline functions and macros that the Rust
 * abstractions need. Each module links its own copy (see Kbuild).
 */
#ifndef HBOND_RUST_HELPERS_H
#define HBOND_RUST_HELPERS_H

#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/xfrm.h>

void *hbond_helper_netdev_priv(const struct net_device *dev);
void hbond_helper_dev_hold(struct net_device *dev);
void hbond_helper_dev_put(struct net_device *dev);
struct net *hbond_helper_dev_net(const struct net_device *dev);
void hbond_helper_setup_software_dev(struct net_device *dev);
bool hbond_helper_netif_running(const struct net_device *dev);
bool hbond_helper_dev_is_registered(const struct net_device *dev);
bool hbond_helper_netif_carrier_ok(const struct net_device *dev);
bool hbond_helper_netif_is_rx_handler_busy(const struct net_device *dev);
void hbond_helper_set_slave_flags(struct net_device *dev, bool slave);
void hbond_helper_set_master_flags(struct net_device *dev);
void hbond_helper_setup_rx_filters(struct net_device *dev, bool unicast_flt, bool vlan_filter);
int hbond_helper_dev_addrs_sync(struct net_device *to, struct net_device *from);
void hbond_helper_dev_addrs_unsync(struct net_device *to, struct net_device *from);
void hbond_helper_netif_addr_lock_bh(struct net_device *dev);
void hbond_helper_netif_addr_unlock_bh(struct net_device *dev);
int hbond_helper_vlan_vid_add(struct net_device *dev, __be16 proto, u16 vid);
void hbond_helper_vlan_vid_del(struct net_device *dev, __be16 proto, u16 vid);
int hbond_helper_vlan_vids_add_by_dev(struct net_device *dev, const struct net_device *by_dev);
void hbond_helper_vlan_vids_del_by_dev(struct net_device *dev, const struct net_device *by_dev);
const u8 *hbond_helper_sockaddr_data(const void *addr);
void hbond_helper_init_list_head(struct list_head *head);
void hbond_helper_clear_tx_skb_sharing(struct net_device *dev);
bool hbond_helper_dev_releases_dst(const struct net_device *dev);
void hbond_helper_set_releases_dst(struct net_device *dev, bool release);
void hbond_helper_netif_tx_start_all_queues(struct net_device *dev);
void hbond_helper_netif_tx_stop_all_queues(struct net_device *dev);
struct net_device *hbond_helper_netdev_notifier_info_to_dev(const struct netdev_notifier_info *info);
int hbond_helper_dev_validate_ether(const struct net_device *dev, struct nlattr *tb[]);

void hbond_helper_dev_get_mac(const struct net_device *dev, u8 *addr);
int hbond_helper_dev_set_mac(struct net_device *dev, const u8 *addr, size_t len,
			     struct netlink_ext_ack *extack);
int hbond_helper_dev_adopt_mac(struct net_device *dev, const u8 *addr, size_t len,
			       bool stolen);
bool hbond_helper_dev_mac_is_random(const struct net_device *dev);
bool hbond_helper_dev_can_set_mac(const struct net_device *dev);
void hbond_helper_eth_random_addr(u8 *addr);
struct net_device *hbond_helper_to_net_dev(struct device *dev);
struct kobject *hbond_helper_netdev_kobj(struct net_device *dev);
void hbond_helper_netdev_remove_group(struct net_device *dev,
				      const struct attribute_group *grp);
void hbond_helper_sysfs_attr_init(struct attribute *attr);
int hbond_helper_rtnl_trylock_or_restart(void);
void hbond_helper_init_delayed_work(struct delayed_work *dw, work_func_t fn, const char *name,
				    struct lock_class_key *key);
bool hbond_helper_schedule_delayed_work(struct delayed_work *dw, unsigned int delay_ms);
bool hbond_helper_mod_delayed_work(struct delayed_work *dw, unsigned int delay_ms);
u64 hbond_helper_now_ms(void);
u32 hbond_helper_skb_get_hash(struct sk_buff *skb);
int hbond_helper_skb_set_eth_source(struct sk_buff *skb, const u8 *addr);
u32 hbond_helper_dev_speed_mbps(struct net_device *dev);
rx_handler_func_t *hbond_helper_rx_handler(const struct net_device *dev);
void *hbond_helper_rx_handler_data(const struct net_device *dev);
bool hbond_helper_skb_eth_dest_is_multicast(const struct sk_buff *skb);
void hbond_helper_put_net(struct net *net);
void hbond_helper_rcu_read_lock(void);
void hbond_helper_rcu_read_unlock(void);
void hbond_helper_kfree_skb(struct sk_buff *skb);
struct net_device *hbond_helper_skb_dev(const struct sk_buff *skb);
void hbond_helper_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
unsigned int hbond_helper_skb_len(const struct sk_buff *skb);
int hbond_helper_dev_queue_xmit(struct sk_buff *skb);
struct sk_buff *hbond_helper_skb_share_check(struct sk_buff *skb, gfp_t pri);

void hbond_helper_kunit_fail(struct kunit *test, const char *file, int line,
			     const char *condition);
struct kunit *hbond_helper_kunit_get_current_test(void);

struct aead_request *hbond_helper_aead_request_alloc(struct crypto_aead *tfm, gfp_t gfp);
void hbond_helper_aead_request_free(struct aead_request *req);
void hbond_helper_aead_request_set_callback(struct aead_request *req, u32 flags,
					    crypto_completion_t complete, void *data);
void hbond_helper_aead_request_set_crypt(struct aead_request *req, struct scatterlist *src,
					 struct scatterlist *dst, unsigned int cryptlen, u8 *iv);
void hbond_helper_aead_request_set_ad(struct aead_request *req, unsigned int assoclen);
void hbond_helper_crypto_free_aead(struct crypto_aead *tfm);
unsigned int hbond_helper_crypto_aead_authsize(struct crypto_aead *tfm);
unsigned int hbond_helper_crypto_aead_ivsize(struct crypto_aead *tfm);
const char *hbond_helper_crypto_aead_driver_name(struct crypto_aead *tfm);
const char *hbond_helper_crypto_aead_alg_name(struct crypto_aead *tfm);
int hbond_helper_aead_forward_wait(struct aead_request *req, struct crypto_aead *tfm,
				   bool encrypt);
int hbond_helper_aead_forward(struct aead_request *req, struct crypto_aead *tfm, bool encrypt,
			      void (*done)(struct aead_request *req, bool encrypt, void *data,
					   int err),
			      void *data);

/* Asynchronous AEAD client (rust/crypto/aead_req.rs). */
unsigned int hbond_helper_crypto_aead_reqsize(struct crypto_aead *tfm);
void hbond_helper_aead_request_set_tfm(struct aead_request *req, struct crypto_aead *tfm);
unsigned int hbond_helper_crypto_aead_alignmask(struct crypto_aead *tfm);
bool hbond_helper_crypto_aead_is_async(struct crypto_aead *tfm);
void hbond_helper_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len);
void hbond_helper_inflight_inc(atomic_long_t *count);
void hbond_helper_inflight_dec(atomic_long_t *count);
long hbond_helper_inflight_read(atomic_long_t *count);
void hbond_helper_inflight_wait(atomic_long_t *count);
void hbond_helper_might_sleep(void);
struct sk_buff *hbond_helper_alloc_skb_zeroed(unsigned int len, gfp_t gfp);

/* Crypto API drivers (rust/crypto/aead_alg.rs). */
void *hbond_helper_crypto_aead_ctx(struct crypto_aead *tfm);
struct aead_alg *hbond_helper_crypto_aead_alg(struct crypto_aead *tfm);
struct crypto_aead *hbond_helper_crypto_aead_reqtfm(struct aead_request *req);
void hbond_helper_aead_request_complete_bh(struct aead_request *req, int err);
/* Longest injected pause of hbond_helper_crypto_unregister_aead_if_unused(). */
#define HBOND_CRYPTO_UNREGISTER_PAUSE_MAX_MS 5000
bool hbond_helper_crypto_unregister_aead_if_unused(struct aead_alg *alg, u32 *pause_ms);
void hbond_helper_crypto_unregister_aead_now(struct aead_alg *alg);
bool hbond_helper_crypto_aead_unused(const struct aead_alg *alg);
bool hbond_helper_crypto_alg_tested(const struct aead_alg *alg);

/* Locks, time and work of the crypto engine. */
void hbond_helper_spin_lock_bh(spinlock_t *lock);
void hbond_helper_spin_unlock_bh(spinlock_t *lock);
void hbond_helper_local_bh_disable(void);
void hbond_helper_local_bh_enable(void);
u64 hbond_helper_now_ns(void);
void hbond_helper_sleep_us(unsigned long usecs);
bool hbond_helper_queue_delayed_work_unbound(struct delayed_work *dw, unsigned int delay_ms);

int hbond_helper_skb_linearize_cow(struct sk_buff *skb);
bool hbond_helper_skb_transport_header_was_set(const struct sk_buff *skb);
int hbond_helper_skb_transport_offset(const struct sk_buff *skb);
unsigned char *hbond_helper_skb_network_header(const struct sk_buff *skb);
unsigned char *hbond_helper_skb_tail_pointer(const struct sk_buff *skb);
u32 hbond_helper_skb_mark(const struct sk_buff *skb);

struct xfrm_offload *hbond_helper_xfrm_offload(struct sk_buff *skb);
struct sec_path *hbond_helper_skb_sec_path(const struct sk_buff *skb);
void hbond_helper_secpath_reset(struct sk_buff *skb);
void hbond_helper_xfrm_state_put(struct xfrm_state *x);
void hbond_helper_xfrm_state_hold(struct xfrm_state *x);

#endif
