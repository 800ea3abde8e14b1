#!/usr/bin/env python3
"""Boots the amd64 Relais image under QEMU/KVM and checks the box as a school would use it.

  image/test/image_test.py build-image/amd64 build-image/relais-amd64.img

From the host: the first-boot setup ran (secrets made, relais-setup.txt applied
and wiped), the app and the captive probes answer through a forwarded port, the
root is read-only, data written before a hard reset survives it, the firewall
drops what it should. Inside the VM (through qemu-guest-agent): a simulated
tablet on a mac80211_hwsim radio joins the box's Wi-Fi, gets an address by
DHCP, resolves ecole.lan and fetches the app. Prints the boot time and ends
with "N passed, N failed".
"""
import base64, json, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request, urllib.error

SCHOOL = "École du Test"
SSID = "Relais-Test"
ADMIN_PASSWORD = "un-mot-de-passe-de-test-42"
passed, failed = 0, 0
os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fat_offset(img):
    out = subprocess.run(["sfdisk", "-J", img], check=True, capture_output=True, text=True).stdout
    part = json.loads(out)["partitiontable"]["partitions"][0]
    return part["start"] * 512


class VM:
    def __init__(self, workdir, kernel, initrd, disk):
        self.dir, self.kernel, self.initrd, self.disk = workdir, kernel, initrd, disk
        self.proc = None
        self.console = None
        self.boots = 0

    def start(self):
        """Boots the disk (again: a new QEMU process on the same disk after a power cut)."""
        self.http, self.blocked, self.install = free_port(), free_port(), free_port()
        self.boots += 1
        self.console = os.path.join(self.dir, f"console-{self.boots}.log")
        qga, qmp = os.path.join(self.dir, "qga.sock"), os.path.join(self.dir, "qmp.sock")
        for sock in (qga, qmp):
            if os.path.exists(sock):
                os.unlink(sock)
        fwd = (f"hostfwd=tcp:127.0.0.1:{self.http}-10.42.0.1:80,hostfwd=tcp:127.0.0.1:{self.blocked}-10.42.0.1:8081,"
               f"hostfwd=tcp:127.0.0.1:{self.install}-10.42.1.1:80")  # the installation page's address
        append = "root=LABEL=relais-root ro console=ttyS0 net.ifnames=0 panic=5"
        extra = []
        if ACCEL == "tcg":
            # Software emulation on a loaded machine: the guest's timers are late, its services slow to
            # start, and systemd could miss the 14 s hardware-watchdog deadline (the watchdog then does
            # nothing here). acpi_cpufreq has nothing to drive under emulation; its unloading once
            # crashed the guest's timer code.
            append += " no_timer_check systemd.default_timeout_start_sec=900 module_blacklist=acpi_cpufreq"
            extra = ["-action", "watchdog=none"]
        cmd = ["qemu-system-x86_64", "-accel", ACCEL, "-m", "1024", "-smp", "2",
               "-kernel", self.kernel, "-initrd", self.initrd, "-append", append,
               "-drive", f"file={self.disk},if=virtio,format=raw",
               # The box's Ethernet side: QEMU's user network, restricted (no way out), on the box's subnet.
               "-nic", f"user,model=virtio-net-pci,net=10.42.0.0/24,host=10.42.0.2,dhcpstart=10.42.0.60,restrict=on,{fwd}",
               "-device", "virtio-rng-pci", "-device", "i6300esb",
               # A USB controller, so that the test can plug a stick in (update_from_stick).
               "-device", "qemu-xhci,id=xhci",
               "-chardev", f"socket,path={qga},server=on,wait=off,id=qga0",
               "-device", "virtio-serial", "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
               "-qmp", f"unix:{qmp},server=on,wait=off",
               "-serial", f"file:{self.console}", "-display", "none", "-no-reboot"] + extra
        self.proc = subprocess.Popen(cmd)
        self.started = time.monotonic()
        for _ in range(100):
            if os.path.exists(qmp) and os.path.exists(qga):
                break
            time.sleep(0.1)

    def power_cut(self):
        """Pulls the plug: QEMU killed with SIGKILL, nothing flushed by the guest."""
        self.proc.kill()
        self.proc.wait()

    def _exchange(self, path, message, timeout=30):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(path)
        f = s.makefile("rwb")
        if path.endswith("qmp.sock"):
            f.readline()
            f.write(b'{"execute":"qmp_capabilities"}\n'); f.flush(); f.readline()
        else:  # the guest agent may hold stale replies: sync first
            f.write(b'{"execute":"guest-sync","arguments":{"id":4242}}\n'); f.flush()
            while b"4242" not in f.readline():
                pass
        f.write(json.dumps(message).encode() + b"\n"); f.flush()
        while True:
            reply = json.loads(f.readline())
            if "return" in reply or "error" in reply:
                s.close()
                return reply

    def qmp(self, command, arguments=None):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        return self._exchange(os.path.join(self.dir, "qmp.sock"), message)

    def plug_stick(self, path):
        """Plugs a USB stick (a raw disk image) into the running box."""
        self.sticks = getattr(self, "sticks", 0) + 1
        node = f"stick{self.sticks}"
        r = self.qmp("blockdev-add", {"driver": "raw", "node-name": node,
                                      "file": {"driver": "file", "filename": path}})
        if "error" in r:
            return r
        return self.qmp("device_add", {"driver": "usb-storage", "id": f"usb-{node}", "drive": node,
                                       "bus": "xhci.0"})

    def unplug_stick(self):
        node = f"stick{self.sticks}"
        self.qmp("device_del", {"id": f"usb-{node}"})
        for _ in range(100):  # the guest lets the device go, then the block node can be removed
            if "error" not in self.qmp("blockdev-del", {"node-name": node}):
                return
            time.sleep(0.3)

    def sh(self, script, timeout=300):
        """Runs `script` with /bin/sh as root inside the VM; returns (exit code, output)."""
        qga = os.path.join(self.dir, "qga.sock")
        r = self._exchange(qga, {"execute": "guest-exec", "arguments": {
            "path": "/bin/sh", "arg": ["-c", script], "capture-output": True}})
        if "error" in r:
            return -1, str(r["error"])
        pid = r["return"]["pid"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self._exchange(qga, {"execute": "guest-exec-status", "arguments": {"pid": pid}})["return"]
            if st["exited"]:
                out = base64.b64decode(st.get("out-data", "")) + base64.b64decode(st.get("err-data", ""))
                return st.get("exitcode", -1), out.decode(errors="replace")
            time.sleep(0.3)
        return -1, "timeout"

    def wait_agent(self, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.sh("true", timeout=5)[0] == 0:
                    return True
            except OSError:
                pass
            time.sleep(1)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp("quit")
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def default_accel():
    """KVM when the machine really has it. A /dev/kvm served by kvm_pvm (PVM, "pagetable-based virtual
    machine", which cloud VMs without nested VMX/SVM offer) runs only guest kernels built for PVM: a
    Debian kernel hangs in its real-mode setup there. Those machines get software emulation."""
    if not os.path.exists("/dev/kvm") or os.path.exists("/sys/module/kvm_pvm"):
        return "tcg"
    return "kvm"


ACCEL = os.environ.get("IMAGE_TEST_ACCEL") or default_accel()
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Password hashing (Argon2id) takes seconds under software emulation: generous timeouts.
HTTP_TIMEOUT = 120 if ACCEL == "tcg" else 10


def http(port, path, method="GET", body=None, token=None, host="ecole.lan", timeout=None):
    timeout = timeout or HTTP_TIMEOUT
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Host", host)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except OSError as e:  # timeouts, refused connections
        return 0, str(e)


def wait_http(port, timeout=None, proc=None):
    timeout = timeout or int(os.environ.get("IMAGE_TEST_BOOT_TIMEOUT", "1800" if ACCEL == "tcg" else "300"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            if http(port, "/api/v1/health", timeout=5)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


TABLET = r"""
set -e
phy=$(cat /sys/class/net/wlan1/phy80211/name)
ip netns add tablet
iw phy "$phy" set netns name tablet
mkdir -p /run/tablet
cat > /run/tablet/wpa.conf <<CONF
ctrl_interface=/run/tablet/wpa
network={
  ssid="$SSID"
  psk="$PSK"
  # The box's channel 6 only: a full scan takes minutes under software emulation.
  scan_freq=2437
}
CONF
cat > /tmp/tablet-dhcp.sh <<'SCRIPT'
#!/bin/sh
case "$1" in bound|renew)
  ip addr add "$ip/${mask:-24}" dev "$interface"
  echo "nameserver ${dns%% *}" > /run/tablet/resolv.conf
  ip route add default via "${router%% *}" dev "$interface"
  echo "$ip" > /run/tablet/ip ;;
esac
SCRIPT
chmod +x /tmp/tablet-dhcp.sh
T="ip netns exec tablet"
$T ip link set lo up
$T ip link set wlan1 up
$T wpa_supplicant -B -i wlan1 -c /run/tablet/wpa.conf -P /run/tablet/wpa.pid
for i in $(seq 180); do $T iw dev wlan1 link | grep -q "SSID: $SSID" && break; sleep 1; done
echo "joined after ${i} s"
if ! $T iw dev wlan1 link | grep "SSID"; then
  echo "not joined: hostapd $(systemctl is-active hostapd) $(iw dev) scan: $($T iw dev wlan1 scan dump | grep -E 'SSID|freq')"
  journalctl -u hostapd --no-pager | tail -15
  wpa_cli -p /run/tablet/wpa status 2>&1 | tail -5
  exit 1
fi
$T busybox udhcpc -i wlan1 -n -q -t 10 -s /tmp/tablet-dhcp.sh >/dev/null 2>&1
echo "ip=$(cat /run/tablet/ip) $(cat /run/tablet/resolv.conf)"
# The tablet's own resolver (the DNS server DHCP gave it) and hosts file (not the box's).
printf '127.0.0.1 localhost\n' > /run/tablet/hosts
$T unshare -m sh -c 'mount --bind /run/tablet/resolv.conf /etc/resolv.conf
  mount --bind /run/tablet/hosts /etc/hosts
  echo "ecole.lan=$(getent hosts ecole.lan | cut -d" " -f1)"
  echo "probe=$(getent hosts connectivitycheck.gstatic.com | cut -d" " -f1)"
  echo "app=$(curl -fsS --max-time 5 http://ecole.lan/api/v1/health | grep -o "\"status\":\"ok\"")"
  echo "android=$(curl -s -o /dev/null -w %{http_code} --max-time 5 http://connectivitycheck.gstatic.com/generate_204)"
  if curl -s --max-time 3 http://10.42.0.1:8081/ >/dev/null; then echo blocked=no; else echo blocked=yes; fi
  echo "install_name=$(getent hosts installation.lan | cut -d" " -f1)"
  echo "install_page=$(curl -s -o /dev/null -w %{http_code} --max-time 5 http://installation.lan/installation)"
  echo "install_on_app_address=$(curl -s -o /dev/null -w %{http_code} --max-time 5 http://ecole.lan/installation)"'
echo "route=$($T ip route | grep default)"
"""


def make_stick(tmp, name, files):
    """A 64 MiB FAT USB stick image holding `files` (host paths)."""
    stick = os.path.join(tmp, name)
    if os.path.exists(stick):
        os.unlink(stick)
    subprocess.run(["mkfs.vfat", "-C", "-n", "CLE-USB", stick, str(64 * 1024)], check=True, capture_output=True)
    for f in files:
        subprocess.run(["mcopy", "-i", stick, f, "::" + os.path.basename(f)], check=True)
    return stick


def repack_deb(deb, out, version, broken=False):
    """The image's relais package with another version; `broken`: its server exits at once."""
    tree = out + ".d"
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True)
    control = os.path.join(tree, "DEBIAN", "control")
    text = open(control).read()
    text = "\n".join(f"Version: {version}" if l.startswith("Version:") else l for l in text.split("\n"))
    open(control, "w").write(text)
    if broken:
        with open(os.path.join(tree, "usr", "bin", "relais"), "w") as f:
            f.write("#!/bin/sh\necho 'relais: this build is broken on purpose' >&2\nexit 1\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", tree, out], check=True, capture_output=True)
    shutil.rmtree(tree)
    return out


def update_from_stick(vm, tmp, name, files, lines):
    """Plugs a stick carrying `files` into the box and waits until relais-update-resultat.txt on it has
    `lines` lines (the update ran to its end); returns the file's text (empty if it never came)."""
    stick = make_stick(tmp, name, files)
    r = vm.plug_stick(stick)
    if "error" in r:
        return f"stick not plugged: {r}"
    text = ""
    deadline = time.monotonic() + (900 if ACCEL == "tcg" else 300)
    while time.monotonic() < deadline:
        got = subprocess.run(["mtype", "-i", stick, "::relais-update-resultat.txt"], capture_output=True, text=True)
        text = got.stdout if got.returncode == 0 else ""
        if len(text.strip().splitlines()) >= lines:
            break
        time.sleep(2)
    vm.unplug_stick()
    return text


def main():
    workdir_img, image = sys.argv[1], sys.argv[2]
    out_dir = os.path.dirname(os.path.abspath(workdir_img))
    tmp = tempfile.mkdtemp(prefix="relais-image-test-")
    vm = None
    try:
        disk = os.path.join(tmp, "disk.img")
        shutil.copyfile(image, disk)
        # A bigger card than the image: the data partition must grow into it.
        with open(disk, "r+b") as f:
            f.truncate(os.path.getsize(image) + (512 << 20))
        setup = (f"ecole = {SCHOOL}\r\nwifi_nom = {SSID}\r\nwifi_mot_de_passe =\r\n"
                 f"admin_identifiant = directrice\r\nadmin_mot_de_passe = {ADMIN_PASSWORD}\r\n")
        with open(os.path.join(tmp, "relais-setup.txt"), "w") as f:
            f.write(setup)
        fat = f"{disk}@@{fat_offset(disk)}"
        subprocess.run(["mcopy", "-i", fat, os.path.join(tmp, "relais-setup.txt"), "::relais-setup.txt"], check=True)

        vm = VM(tmp, os.path.join(workdir_img, "vmlinuz"), os.path.join(workdir_img, "initrd.img"), disk)
        vm.start()
        up = wait_http(vm.http, proc=vm.proc)
        boot_s = time.monotonic() - vm.started
        check("the app answers through the forwarded port after the first boot", up)
        print(f"boot time (first boot, QEMU start to the app answering): {boot_s:.1f} s")
        check("the guest agent answers", vm.wait_agent())
        if not up:
            raise SystemExit(1)
        print(vm.sh("systemd-analyze time; systemd-analyze blame --no-pager | head -12", timeout=180)[1])
        # Two simulated radios: wlan0 for the box's access point (udev then starts hostapd, as the Pi's
        # own radio does), wlan1 for the tablet. Loaded here, not at boot: systemd-modules-load gives up
        # after 90 s, which mac80211 and its dependencies can take under software emulation.
        rc, out = vm.sh("modprobe mac80211_hwsim radios=2 && for i in $(seq 180); do "
                        "systemctl -q is-active hostapd && break; sleep 1; done; systemctl is-active hostapd", timeout=600)
        check("the Wi-Fi radio appears and hostapd starts on it", rc == 0 and out.strip() == "active", out)

        # First boot
        rc, _ = vm.sh("test -f /data/system/firstboot-done")
        check("first-boot setup finished", rc == 0)
        rc, out = vm.sh("cat /data/system/wifi-name; echo; cat /data/system/wifi-passphrase")
        name, psk = (out.split("\n") + ["", ""])[:2]
        check("the Wi-Fi name comes from relais-setup.txt", name == SSID, out)
        check("a Wi-Fi passphrase was generated for this box", len(psk) == 19 and psk.count("-") == 3, psk)
        rc, out = vm.sh("grep -c -e '^wpa_passphrase=" + psk + "$' -e '^ssid=" + SSID + "$' /data/system/hostapd.conf; stat -c %a /data/system/hostapd.conf")
        check("hostapd's configuration carries them and only root reads it", out.split() == ["2", "600"], out)
        status, body = http(vm.http, "/api/v1/setup")
        check("the school is named from relais-setup.txt and no setup is pending",
              status == 200 and json.loads(body) == {"needed": False, "school_name": SCHOOL}, body)
        status, body = http(vm.http, "/api/v1/session", "POST", {"login": "directrice", "password": ADMIN_PASSWORD})
        check("the administrator from relais-setup.txt logs in", status == 200, body)
        token = json.loads(body).get("token", "") if status == 200 else ""
        rc, out = vm.sh("mount -o ro LABEL=RELAIS-BOOT /mnt && ls /mnt; cat /mnt/relais-resultat.txt; umount /mnt")
        check("relais-setup.txt was wiped from the FAT partition", rc == 0 and "relais-setup.txt\n" not in out, out)
        check("relais-resultat.txt reports, without the passwords",
              "relais-setup.txt appliqué" in out and ADMIN_PASSWORD not in out and psk not in out, out)
        rc, out = vm.sh("df -m --output=size /data | tail -1")
        check("the data partition grew to fill the card", rc == 0 and int(out.strip()) > 500, out)

        # Captive-portal probes (the box's DNS sends every name to it)
        for host, path, want_status, want_body in [
                ("connectivitycheck.gstatic.com", "/generate_204", 204, ""),
                ("captive.apple.com", "/hotspot-detect.html", 200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"),
                ("www.msftconnecttest.com", "/connecttest.txt", 200, "Microsoft Connect Test"),
                ("detectportal.firefox.com", "/success.txt", 200, "success"),
                ("nmcheck.gnome.org", "/check_network_status.txt", 200, "NetworkManager is online")]:
            status, body = http(vm.http, path, host=host)
            check(f"captive probe {host}{path} answers {want_status}",
                  status == want_status and body.strip() == want_body, f"{status} {body[:80]}")

        # Read-only root, services, sandbox
        rc, out = vm.sh("findmnt -no OPTIONS /; touch /usr/relais-test 2>&1; echo rc=$?")
        check("the root file system is mounted read-only", out.startswith("ro,") and "rc=1" in out, out)
        rc, out = vm.sh("systemctl is-system-running --wait; systemctl --failed --no-legend")
        check("every unit started (no failed unit)", out.startswith("running"), out)
        rc, out = vm.sh("ss -Hltnu | awk '{print $5}' | sort -u | tr '\\n' ' '")
        print(f"listening: {out}")
        check("nothing listens on SSH", ":22 " not in out, out)
        rc, out = vm.sh("systemd-analyze security relais.service --no-pager | tail -1")
        print(f"sandbox: {out.strip()}")
        rc, out = vm.sh("passwd -S root | cut -d' ' -f2; ps -o user= -C relais")
        check("root is locked and the app runs as its own user", out.split() == ["L", "relais"], out)

        # Firewall: a listener the rules do not allow
        vm.sh("(busybox nc -l -p 8081 -e /bin/echo open >/dev/null 2>&1 &) ; sleep 0.5")
        got = b""
        try:
            s = socket.create_connection(("127.0.0.1", vm.blocked), timeout=3)
            s.settimeout(4)
            got = s.recv(10)
        except OSError:
            pass
        check("the firewall drops a port it does not allow, from the Ethernet side", got == b"", got)
        rc, out = vm.sh("nft list chain inet relais forward | grep -c 'policy drop'; sysctl -n net.ipv4.ip_forward")
        check("nothing is forwarded", out.split() == ["1", "0"], out)

        # The installation page, for a technician's laptop on the Ethernet port
        status, body = http(vm.install, "/installation", host="installation.lan")
        check("from the Ethernet side, the installation page shows the Wi-Fi name and passphrase",
              status == 200 and f"Wi-Fi : {SSID}" in body and psk in body and "déjà son administrateur" in body,
              f"{status} {body[:300]}")

        # The simulated tablet on the box's Wi-Fi
        rc, out = vm.sh(TABLET.replace("$SSID", SSID).replace("$PSK", psk), timeout=600)
        print("tablet: " + " ".join(out.split()))
        check("the tablet joins the Wi-Fi", f"SSID: {SSID}" in out, out)
        check("the tablet gets an address and the box as DNS server by DHCP",
              "ip=10.42.0." in out and "nameserver 10.42.0.1" in out, out)
        check("the tablet resolves ecole.lan, and a probe's name, to the box",
              "ecole.lan=10.42.0.1" in out and "probe=10.42.0.1" in out, out)
        check("the tablet fetches the app", 'app="status":"ok"' in out, out)
        check("the tablet's Android probe gets 204", "android=204" in out, out)
        check("the firewall drops the same port from the Wi-Fi side", "blocked=yes" in out, out)
        check("the tablet has the box as its router (so the installation address is routable)",
              "route=default via 10.42.0.1" in out, out)
        check("from the Wi-Fi, the installation page is out of reach (firewall) and absent on the app's address",
              "install_name=10.42.1.1" in out and "install_page=000" in out and "install_on_app_address=404" in out, out)

        # Set the clock, write data, then a hard reset
        status, body = http(vm.http, "/api/v1/admin/time", "POST", {"time": "2030-01-02T03:04:05Z"}, token)
        check("an admin sets the box's clock from the browser", status == 200, body)
        rc, out = vm.sh("date -u +%Y")
        check("the system clock moved", out.strip() == "2030", out)
        # Sessions end at a wall-clock time: moving the clock years ahead ends them all. Log in again.
        status, _ = http(vm.http, "/api/v1/classes", token=token)
        print(f"the session opened before the clock moved: {status}")
        _, b = http(vm.http, "/api/v1/session", "POST", {"login": "directrice", "password": ADMIN_PASSWORD})
        token = json.loads(b).get("token", "") if b.startswith("{") else ""
        status, body = http(vm.http, "/api/v1/classes", "POST", {"name": "CM2 avant coupure"}, token)
        check("a class is created", status == 201, body)
        # The clock-save timer fires on the clock change (within its 10 s accuracy, late under emulation).
        rc, out = vm.sh("for i in $(seq 120); do [ $(date -u -r /data/system/clock +%Y) = 2030 ] && break; sleep 1; done; "
                        "date -u -r /data/system/clock +%Y")
        check("the new time is saved on the data partition", out.strip() == "2030", out)
        vm.power_cut()
        vm.start()
        up = wait_http(vm.http, proc=vm.proc)
        print(f"boot time (after a power cut): {time.monotonic() - vm.started:.1f} s")
        check("the box comes back after a power cut (QEMU killed, the same disk booted again)", up)
        status, body = http(vm.http, "/api/v1/classes", token=token)
        if status == 401:
            _, b = http(vm.http, "/api/v1/session", "POST", {"login": "directrice", "password": ADMIN_PASSWORD})
            token = json.loads(b).get("token", "")
            status, body = http(vm.http, "/api/v1/classes", token=token)
        check("data written before the power cut is still there", "CM2 avant coupure" in body, body)
        vm.wait_agent()
        rc, out = vm.sh("date -u +%Y")
        check("the clock was kept across the power cut (last known time)", out.strip() == "2030", out)
        rc, out = vm.sh("test -f /data/system/firstboot-done && cat /data/system/wifi-passphrase")
        check("the second boot kept the box's secrets", out == psk, out)

        # Updates from a USB stick (image/README.md, "Updates from a USB stick")
        factory = sorted(f for f in os.listdir(out_dir) if f.startswith("relais_") and f.endswith("_amd64.deb"))
        key = os.path.join(out_dir, "keys", "update-key.pem")
        good = repack_deb(os.path.join(out_dir, factory[-1]), os.path.join(tmp, "relais_9.0.1_amd64.deb"), "9.0.1")
        upd = os.path.join(tmp, "update-good")
        subprocess.run([os.path.join(SRC, "image", "update", "make-update.sh"), key, upd, good], check=True,
                       capture_output=True)
        # A stick whose tar was changed after signing: refused, nothing touched.
        forged = os.path.join(tmp, "update-forged")
        shutil.copytree(upd, forged)
        with open(os.path.join(forged, "relais-update.tar"), "ab") as f:
            f.write(b"\0" * 512)
        text = update_from_stick(vm, tmp, "stick-forged.img",
                                 [os.path.join(forged, f) for f in ("relais-update.tar", "relais-update.tar.sig")], 1)
        rc, version = vm.sh("dpkg-query -W -f='${Version}' relais")
        check("an update whose signature does not match is refused and installs nothing",
              "refusé : signature invalide" in text and version == factory[-1].split("_")[1], f"{text!r} {version}")
        t0 = time.monotonic()
        text = update_from_stick(vm, tmp, "stick-good.img",
                                 [os.path.join(upd, f) for f in ("relais-update.tar", "relais-update.tar.sig")], 1)
        print(f"update from the stick: {time.monotonic() - t0:.0f} s to {text.strip()!r}")
        rc, version = vm.sh("echo $(dpkg-query -W -f='${Version}' relais) $(findmnt -no OPTIONS / | cut -d, -f1)")
        check("a signed update installs the new package and the root is read-only again",
              "installé : relais_9.0.1_amd64.deb" in text and version.split() == ["9.0.1", "ro"], f"{text!r} {version}")
        status, body = http(vm.http, "/api/v1/classes", token=token)
        check("after the update the app answers with the school's data", "CM2 avant coupure" in body,
              f"{status} {body[:200]}")
        # A signed update whose server does not start: the box goes back to the version it had.
        bad = repack_deb(os.path.join(out_dir, factory[-1]), os.path.join(tmp, "relais_9.0.2_amd64.deb"), "9.0.2",
                         broken=True)
        upd_bad = os.path.join(tmp, "update-bad")
        subprocess.run([os.path.join(SRC, "image", "update", "make-update.sh"), key, upd_bad, bad], check=True,
                       capture_output=True)
        t0 = time.monotonic()
        text = update_from_stick(vm, tmp, "stick-bad.img",
                                 [os.path.join(upd_bad, f) for f in ("relais-update.tar", "relais-update.tar.sig")], 1)
        print(f"broken update from the stick: {time.monotonic() - t0:.0f} s to {text.strip()!r}")
        rc, version = vm.sh("echo $(dpkg-query -W -f='${Version}' relais) $(findmnt -no OPTIONS / | cut -d, -f1)")
        up = wait_http(vm.http, timeout=300)
        status, body = http(vm.http, "/api/v1/classes", token=token)
        check("a signed update that does not start is rolled back to the previous version, data kept",
              "échec : version précédente remise en place" in text and version.split() == ["9.0.1", "ro"] and up
              and "CM2 avant coupure" in body, f"{text!r} {version} {status} {body[:200]}")
    except SystemExit:
        pass
    finally:
        if vm and failed:
            try:
                print(vm.sh("systemctl --failed --no-legend; journalctl -b -p warning --no-pager | tail -40", timeout=10)[1])
            except (OSError, ValueError):
                pass
        if vm:
            vm.stop()
        console = vm.console if vm else None
        if failed and console and os.path.exists(console):
            print("--- end of the VM console ---")
            print(open(console, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
