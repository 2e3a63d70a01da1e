# Generates the packets of the tests in ../esp.rs (crypto-offload ESP packets
# as they are at hb0: ESP header, IV room, clear payload, trailer, ICV room)
# and pcaps to check them: tcpdump -nn -vv -r inner.pcap decodes the clear
# inner packets with correct checksums. Run: python3 esp_packets.py
import struct, ipaddress
def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2),b)); 
    while s>>16: s=(s&0xffff)+(s>>16)
    return (~s)&0xffff
def ip4(src,dst,proto,payload,ident=1,frag=0x4000):
    h=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(payload),ident,frag,64,proto,0,ipaddress.ip_address(src).packed,ipaddress.ip_address(dst).packed)
    h=h[:10]+struct.pack('!H',csum(h))+h[12:]
    return h+payload
def ip6(src,dst,nh,payload):
    return struct.pack('!IHBB16s16s',0x60000000,len(payload),nh,64,ipaddress.ip_address(src).packed,ipaddress.ip_address(dst).packed)+payload
def l4(src,dst,proto,seg,off):
    a=ipaddress.ip_address(src).packed+ipaddress.ip_address(dst).packed
    ph=a+(struct.pack('!HBB',len(seg),0,proto) if len(a)==8 else struct.pack('!IxxxB',len(seg),proto))
    c=csum(ph+seg) or 0xffff
    return seg[:off]+struct.pack('!H',c)+seg[off+2:]
def udp(sp,dp,data,src,dst): return l4(src,dst,17,struct.pack('!HHHH',sp,dp,8+len(data),0)+data,6)
def tcp(sp,dp,src,dst,flags=0x02): return l4(src,dst,6,struct.pack('!HHIIBBHHH',sp,dp,1000,0,0x50,flags,64240,0,0),16)
def esp_offload(spi,seq,inner,nh):
    # As esp_xmit leaves it at hb0: header, IV room, clear payload, trailer, ICV room.
    pad=(-(len(inner)+2))%4
    return struct.pack('!II',spi,seq)+b'\0'*8+inner+bytes(range(1,pad+1))+bytes([pad,nh])+b'\0'*16
eth4=bytes.fromhex('020000000002020000000001'+'0800')
eth6=bytes.fromhex('020000000002020000000001'+'86dd')
cases={}
# 1: IPv4 transport UDP
inner=udp(40000,5201,b'hello hbond','10.0.0.1','10.0.0.2')
cases['V4_TRANSPORT_UDP']=(eth4+ip4('10.0.0.1','10.0.0.2',50,esp_offload(0x1001,7,inner,17)), eth4+ip4('10.0.0.1','10.0.0.2',17,inner))
# 2: IPv4 tunnel, inner IPv4 TCP SYN
inner=ip4('10.1.0.1','10.2.0.1',6,tcp(33000,80,'10.1.0.1','10.2.0.1'))
cases['V4_TUNNEL_TCP']=(eth4+ip4('192.0.2.1','192.0.2.2',50,esp_offload(0x2002,1,inner,4)), eth4+inner)
# 3: IPv6 tunnel, inner IPv6 with a destination options header, then UDP
dopt=bytes([17,0,1,4,0,0,0,0])
inner=ip6('2001:db8:1::1','2001:db8:2::1',60,dopt+udp(1234,53,b'q','2001:db8:1::1','2001:db8:2::1'))
cases['V6_TUNNEL_UDP']=(eth6+ip6('2001:db8::1','2001:db8::2',50,esp_offload(0x3003,9,inner,41)), eth6+inner)
# 4: IPv6 transport TCP
inner=tcp(45678,443,'2001:db8::1','2001:db8::2',0x10)
cases['V6_TRANSPORT_TCP']=(eth6+ip6('2001:db8::1','2001:db8::2',50,esp_offload(0x4004,2,inner,6)), eth6+ip6('2001:db8::1','2001:db8::2',6,inner))
# 5: IPv4 tunnel, inner first fragment (MF): no ports
inner=ip4('10.1.0.1','10.2.0.1',17,udp(5000,6000,b'x'*16,'10.1.0.1','10.2.0.1'),ident=77,frag=0x2000)
cases['V4_TUNNEL_FRAG']=(eth4+ip4('192.0.2.1','192.0.2.2',50,esp_offload(0x2002,2,inner,4)), eth4+inner)
# pcap of the outer packets and of the clear inner views
def pcap(name,pkts):
    with open(name,'wb') as f:
        f.write(struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,1))
        for p in pkts: f.write(struct.pack('<IIII',0,0,len(p),len(p))+p)
pcap('outer.pcap',[v[0] for v in cases.values()])
pcap('inner.pcap',[v[1] for v in cases.values()])
with open('cases.rs','w') as f:
    for k,(o,_) in cases.items():
        f.write('    /// %s\n    const %s: &[u8] = &[\n'%(k,k))
        for i in range(0,len(o),16):
            f.write('        '+' '.join('0x%02x,'%b for b in o[i:i+16])+'\n')
        f.write('    ];\n')
