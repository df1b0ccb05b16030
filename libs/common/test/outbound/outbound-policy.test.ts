import { OutboundPolicy, allowedHostProblem, classifyAddress, redactUrl } from '@app/common';

describe('outbound address classes', () => {
  it('calls only ordinary unicast addresses public', () => {
    for (const address of ['8.8.8.8', '93.184.216.34', '2606:4700::1111', '64:ff9b::808:808']) {
      expect(classifyAddress(address)).toEqual({ kind: 'public', range: 'unicast' });
    }
  });

  it('finds the special ranges in every spelling, embedded IPv4 included', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.1.1', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['198.18.0.1', 'reserved'],
      ['224.0.0.1', 'multicast'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'linkLocal'],
      ['fd12:3456::1', 'uniqueLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['fec0::1', 'reserved'],
      ['64:ff9b:1::1', 'reserved'],
      ['2001::1', 'teredo'],
      ['::ffff:127.0.0.1', 'ipv4Mapped of loopback'],
      ['::ffff:a00:1', 'ipv4Mapped of private'],
      ['64:ff9b::7f00:1', 'rfc6052 of loopback'],
      ['64:ff9b::a9fe:101', 'rfc6052 of linkLocal'],
      ['2002:c0a8:101::1', '6to4 of private'],
      ['::7f00:1', 'ipv4Compatible of loopback'],
    ];
    for (const [address, range] of cases) {
      expect([address, classifyAddress(address)]).toEqual([address, { kind: 'special', range }]);
    }
  });

  it('knows the cloud metadata addresses, also inside IPv6 forms', () => {
    for (const address of [
      '169.254.169.254',
      '100.100.100.200',
      '168.63.129.16',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
    ]) {
      expect([address, classifyAddress(address)?.kind]).toEqual([address, 'metadata']);
    }
  });

  it('is not fooled by non-addresses', () => {
    expect(classifyAddress('example.com')).toBeUndefined();
    expect(classifyAddress('2130706433')).toBeUndefined();
  });
});

describe('OutboundPolicy', () => {
  it('without an allowlist: any host name, public addresses only', () => {
    const open = new OutboundPolicy();
    expect(open.refusalOfHost('example.com')).toBeUndefined();
    expect(open.refusalOfAddress('example.com', '93.184.216.34')).toBeUndefined();
    expect(open.refusalOfHost('127.0.0.1')).toBe(
      '127.0.0.1 is a loopback address, which may not be called unless the allowed hosts name it',
    );
    expect(open.refusalOfHost('[::ffff:7f00:1]')).toMatch(/ipv4Mapped of loopback address/);
    expect(open.refusalOfAddress('rebind.example', '10.0.0.7')).toBe(
      'host rebind.example resolves to 10.0.0.7, 10.0.0.7 is a private address, which may not be called unless the allowed hosts name the host',
    );
    expect(open.refusalOfHost('169.254.169.254')).toMatch(/cloud metadata address/);
    expect(open.refusalOfHost('168.63.129.16')).toMatch(/cloud metadata address/);
  });

  it('with an allowlist: only named hosts, which may be private; metadata only by address', () => {
    const policy = new OutboundPolicy({
      allowedHosts: [
        'API.internal.example',
        '*.svc.cluster.local',
        '10.0.0.5',
        '[::1]',
        '169.254.169.254',
      ],
    });
    expect(policy.refusalOfHost('api.internal.example')).toBeUndefined();
    expect(policy.refusalOfHost('api.internal.example.')).toBeUndefined();
    expect(policy.refusalOfAddress('api.internal.example', '10.1.1.1')).toBeUndefined();
    expect(policy.refusalOfHost('a.svc.cluster.local')).toBeUndefined();
    expect(policy.refusalOfHost('svc.cluster.local')).toMatch(/not in the allowed hosts/);
    expect(policy.refusalOfHost('example.com')).toBe(
      'host example.com is not in the allowed hosts (api.internal.example, *.svc.cluster.local, 10.0.0.5, ::1, 169.254.169.254)',
    );
    expect(policy.refusalOfHost('10.0.0.5')).toBeUndefined();
    expect(policy.refusalOfHost('10.0.0.6')).toMatch(/not in the allowed hosts/);
    expect(policy.refusalOfHost('[0:0::1]')).toBeUndefined();
    // A listed name pointing at a metadata address is still refused…
    expect(policy.refusalOfAddress('x.svc.cluster.local', 'fd00:ec2::254')).toMatch(
      /resolves to fd00:ec2::254, fd00:ec2::254 is a cloud metadata address/,
    );
    // …unless that address is listed itself.
    expect(policy.refusalOfHost('169.254.169.254')).toBeUndefined();
  });

  it('checks its entries', () => {
    expect(allowedHostProblem('*.example.com')).toBeUndefined();
    expect(allowedHostProblem('[fd00::1]')).toBeUndefined();
    expect(allowedHostProblem('http://x')).toMatch(/not a host name/);
    expect(allowedHostProblem('a.b:80')).toMatch(/not a host name/);
    expect(allowedHostProblem('*')).toMatch(/not a host name/);
    expect(() => new OutboundPolicy({ allowedHosts: ['ok.example', 'bad host'] })).toThrow(
      /"bad host"/,
    );
  });
});

describe('redactUrl', () => {
  it('masks user-info passwords and secret query parameters, keeping the rest', () => {
    expect(redactUrl('postgres://zks:pw@db:5432/zk?sslmode=require&password=hunter2')).toBe(
      'postgres://zks:***@db:5432/zk?sslmode=require&password=***',
    );
    expect(redactUrl(new URL('https://api.example/x?api_key=k1&Token=t2&page=2'))).toBe(
      'https://api.example/x?api_key=***&Token=***&page=2',
    );
    expect(redactUrl('not a url')).toBeUndefined();
  });
});
