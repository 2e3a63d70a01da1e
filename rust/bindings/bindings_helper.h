/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers for which the project generates Rust bindings with bindgen, in
 * addition to what the kernel crate's own bindings cover. The 6.12 kernel
 * crate does not reach netdevice.h, rtnetlink.h, net/xfrm.h or crypto/aead.h.
 *
 * Sorted alphabetically.
 */

#include <crypto/aead.h>
#include <crypto/internal/aead.h>
#include <kunit/test.h>
#include <linux/capability.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/rtnetlink.h>
#include <net/xfrm.h>

#include "../helpers/helpers.h"

/*
 * bindgen cannot evaluate function-like macros or casts; expose the values
 * as constants (renamed by the build rule, as the kernel crate does).
 */
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HW_ESP = NETIF_F_HW_ESP;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HW_ESP_TX_CSUM = NETIF_F_HW_ESP_TX_CSUM;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_GSO_ESP = NETIF_F_GSO_ESP;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_SG = NETIF_F_SG;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HW_CSUM = NETIF_F_HW_CSUM;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HIGHDMA = NETIF_F_HIGHDMA;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_RXCSUM = NETIF_F_RXCSUM;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_ALL_TSO = NETIF_F_ALL_TSO;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_GSO_SOFTWARE = NETIF_F_GSO_SOFTWARE;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_VLAN_CHALLENGED = NETIF_F_VLAN_CHALLENGED;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_ONE_FOR_ALL = NETIF_F_ONE_FOR_ALL;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_ALL_FOR_ALL = NETIF_F_ALL_FOR_ALL;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_GSO_ENCAP_ALL = NETIF_F_GSO_ENCAP_ALL;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_FRAGLIST = NETIF_F_FRAGLIST;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HW_VLAN_CTAG_TX = NETIF_F_HW_VLAN_CTAG_TX;
const netdev_features_t HBOND_CONST_HELPER_NETIF_F_HW_VLAN_STAG_TX = NETIF_F_HW_VLAN_STAG_TX;
const netdev_features_t HBOND_CONST_HELPER_MASTER_UPPER_DEV_VLAN_FEATURES = MASTER_UPPER_DEV_VLAN_FEATURES;
const netdev_features_t HBOND_CONST_HELPER_MASTER_UPPER_DEV_ENC_FEATURES = MASTER_UPPER_DEV_ENC_FEATURES;
const netdev_features_t HBOND_CONST_HELPER_MASTER_UPPER_DEV_MPLS_FEATURES = MASTER_UPPER_DEV_MPLS_FEATURES;
const netdev_features_t HBOND_CONST_HELPER_MASTER_UPPER_DEV_XFRM_FEATURES = MASTER_UPPER_DEV_XFRM_FEATURES;
const netdev_features_t HBOND_CONST_HELPER_MASTER_UPPER_DEV_GSO_PARTIAL_FEATURES = MASTER_UPPER_DEV_GSO_PARTIAL_FEATURES;
const unsigned int HBOND_CONST_HELPER_TSO_MAX_SIZE = TSO_MAX_SIZE;
const u16 HBOND_CONST_HELPER_TSO_MAX_SEGS = TSO_MAX_SEGS;
const gfp_t HBOND_CONST_HELPER_GFP_ATOMIC = GFP_ATOMIC;
const gfp_t HBOND_CONST_HELPER_GFP_KERNEL = GFP_KERNEL;
const int HBOND_CONST_HELPER_NLA_HDRLEN = NLA_HDRLEN;
const u8 HBOND_CONST_HELPER_IPPROTO_ESP = IPPROTO_ESP;
const u8 HBOND_CONST_HELPER_NLA_VALIDATE_MIN = NLA_VALIDATE_MIN;
const int HBOND_CONST_HELPER_CAP_NET_ADMIN = CAP_NET_ADMIN;
const int HBOND_CONST_HELPER_IFNAMSIZ = IFNAMSIZ;
