#!/usr/bin/env bash
# Bring up / take down a real single-node Slurm cluster on this machine, for
# tests and CI (Debian/Ubuntu; Debian bookworm ships Slurm 22.05 and munge 0.5.15).
#
#   scripts/local-slurm.sh install  # install slurm-wlm and munge with apt-get if they are missing (root)
#   scripts/local-slurm.sh check    # exit 0 if `up` can run here (root, Slurm and munge installed), else say why
#   scripts/local-slurm.sh up       # configure, start, wait until the node is idle (root; installs nothing)
#   eval "$(scripts/local-slurm.sh up)"   # same, and export SLURM_CONF into this shell
#   scripts/local-slurm.sh status   # sinfo + squeue
#   scripts/local-slurm.sh down     # cancel all jobs, stop the daemons this script started
#   scripts/local-slurm.sh purge    # down, then delete the state directory
#
# Everything (slurm.conf, state, spool, logs, pid files, munge socket) lives in
# $DVAE_SLURM_DIR (default /tmp/dvae-slurm).  `up` prints `export SLURM_CONF=...`
# on stdout (all other messages go to stderr) and writes the same line to
# $DVAE_SLURM_DIR/env.  Clients (sbatch, squeue, submitit, ...) need SLURM_CONF.
#
# Cluster: ClusterName=dvae, one node (`hostname -s`, CPUs=`nproc`), partition
# `debug` (default, MaxTime=INFINITE), select/cons_tres with CR_CPU (so N 1-CPU
# jobs run at once on N CPUs), JobRequeue=1, daemons run as root.
# There is no slurmdbd: accounting is off (accounting_storage/none), so `sacct`
# does not work ("Slurm accounting storage is disabled"); use squeue /
# `scontrol show job` (jobs stay visible for MinJobAge seconds after they end)
# or the job-completion log $DVAE_SLURM_DIR/log/jobcomp.txt (jobcomp/filetxt).
#
# Environment overrides: DVAE_SLURM_DIR, DVAE_SLURMCTLD_PORT (6817),
# DVAE_SLURMD_PORT (6818), DVAE_SLURM_UP_TIMEOUT (60 s), DVAE_SLURM_MIN_JOB_AGE (60 s),
# DVAE_SLURM_CRED_EXPIRE (10 s: a requeued job waits this long before it can start again).
set -euo pipefail

STATE_DIR=${DVAE_SLURM_DIR:-/tmp/dvae-slurm}
CTLD_PORT=${DVAE_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${DVAE_SLURMD_PORT:-6818}
UP_TIMEOUT=${DVAE_SLURM_UP_TIMEOUT:-60}
MIN_JOB_AGE=${DVAE_SLURM_MIN_JOB_AGE:-60}
# A requeued job may start again only cred_expire+1 s later (Slurm default 120 s, minimum 5).
CRED_EXPIRE=${DVAE_SLURM_CRED_EXPIRE:-10}

CONF=$STATE_DIR/slurm.conf
MUNGE_DIR=$STATE_DIR/munge
MUNGE_SOCKET=$MUNGE_DIR/munge.socket.2
MUNGE_PID=$MUNGE_DIR/munged.pid
CTLD_PID=$STATE_DIR/run/slurmctld.pid
SLURMD_PID=$STATE_DIR/run/slurmd.pid
LOG_DIR=$STATE_DIR/log

export SLURM_CONF=$CONF

log() { echo "local-slurm: $*" >&2; }
die() { echo "local-slurm: ERROR: $*" >&2; exit 1; }

need_root() {
    [[ $EUID -eq 0 ]] || die "'$1' must run as root (the daemons run as root/munge)"
}

# pid from a pid file, if that process is alive
alive_pid() {
    local f=$1 pid
    [[ -s $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

DAEMONS="slurmctld slurmd munged sbatch sinfo squeue scontrol scancel runuser"

missing_programs() {
    local program missing=()
    for program in $DAEMONS; do
        command -v "$program" >/dev/null || missing+=("$program")
    done
    echo "${missing[*]}"
}

cmd_check() {
    [[ $EUID -eq 0 ]] || { echo "local-slurm: starting Slurm's daemons needs root" >&2; exit 1; }
    local missing
    missing=$(missing_programs)
    if [[ -n $missing ]]; then
        echo "local-slurm: not installed: $missing ('$0 install' installs them as root)" >&2
        exit 1
    fi
}

install_if_missing() {
    if [[ -z $(missing_programs) ]]; then
        return
    fi
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >&2 ||
        die "apt-get install slurm-wlm munge failed"
    command -v slurmctld >/dev/null && command -v slurmd >/dev/null &&
        command -v munged >/dev/null || die "slurmctld/slurmd/munged still missing after apt-get install"
}

munge_key() {
    # The system key (created by the Debian munge package) if there is one,
    # else a key of our own inside the state directory.
    if [[ -s /etc/munge/munge.key ]]; then
        echo /etc/munge/munge.key
        return
    fi
    local key=$MUNGE_DIR/munge.key
    if [[ ! -s $key ]]; then
        log "creating munge key $key"
        (umask 077 && dd if=/dev/urandom of="$key" bs=1024 count=1 status=none)
        chown munge:munge "$key"
        chmod 0400 "$key"
    fi
    echo "$key"
}

write_conf() {
    local host cpus mem_kb mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    mem_mb=$((mem_kb / 1024 * 90 / 100)) # a bit below MemTotal, or slurmd drains the node
    local tmp=$CONF.tmp
    cat >"$tmp" <<EOF
# Written by scripts/local-slurm.sh -- single-node test cluster (no slurmdbd).
ClusterName=dvae
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET,cred_expire=$CRED_EXPIRE
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.txt
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobRequeue=1
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
KillWait=10
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    if [[ -f $CONF ]] && cmp -s "$tmp" "$CONF"; then
        rm -f "$tmp"
    else
        mv "$tmp" "$CONF"
    fi
    echo "export SLURM_CONF=$CONF" >"$STATE_DIR/env"
}

start_munged() {
    if alive_pid "$MUNGE_PID" >/dev/null; then return; fi
    local key
    key=$(munge_key)
    rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
    log "starting munged (socket $MUNGE_SOCKET)"
    runuser -u munge -- munged --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_PID" \
        --log-file="$MUNGE_DIR/munged.log" --seed-file="$MUNGE_DIR/munged.seed" \
        --key-file="$key" ||
        die "munged did not start; see $MUNGE_DIR/munged.log"
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -S $MUNGE_SOCKET ]] && return
        sleep 0.1
    done
    die "munged socket $MUNGE_SOCKET did not appear; see $MUNGE_DIR/munged.log"
}

# The daemons fork into the background; the child writes the pid file a moment later.
wait_pidfile() {
    local name=$1 file=$2 logf=$3 i
    for ((i = 0; i < 100; i++)); do
        alive_pid "$file" >/dev/null && return 0
        sleep 0.1
    done
    die "$name is not running (no live pid in $file after 10 s); see $logf"
}

start_slurmctld() {
    if alive_pid "$CTLD_PID" >/dev/null; then return; fi
    log "starting slurmctld (log $LOG_DIR/slurmctld.log)"
    slurmctld || die "slurmctld did not start; see $LOG_DIR/slurmctld.log"
    wait_pidfile slurmctld "$CTLD_PID" "$LOG_DIR/slurmctld.log"
}

start_slurmd() {
    if alive_pid "$SLURMD_PID" >/dev/null; then return; fi
    log "starting slurmd (log $LOG_DIR/slurmd.log)"
    slurmd || die "slurmd did not start; see $LOG_DIR/slurmd.log"
    wait_pidfile slurmd "$SLURMD_PID" "$LOG_DIR/slurmd.log"
}

wait_idle() {
    local host state="" i
    host=$(hostname -s)
    for ((i = 0; i < UP_TIMEOUT; i++)); do
        alive_pid "$CTLD_PID" >/dev/null || die "slurmctld exited; see $LOG_DIR/slurmctld.log"
        alive_pid "$SLURMD_PID" >/dev/null || die "slurmd exited; see $LOG_DIR/slurmd.log"
        state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n1 || true)
        case $state in
        idle | mixed | allocated | completing) return 0 ;;
        esac
        sleep 1
    done
    die "node $host not idle after ${UP_TIMEOUT}s (sinfo state: '${state:-no answer}'); see $LOG_DIR/slurmctld.log and $LOG_DIR/slurmd.log"
}

cmd_up() {
    need_root up
    [[ -z $(missing_programs) ]] || die "not installed: $(missing_programs); '$0 install' installs them (root)"
    if alive_pid "$MUNGE_PID" >/dev/null && alive_pid "$CTLD_PID" >/dev/null &&
        alive_pid "$SLURMD_PID" >/dev/null && sinfo -h >/dev/null 2>&1; then
        log "already up ($STATE_DIR)"
        echo "export SLURM_CONF=$CONF"
        return
    fi
    mkdir -p "$STATE_DIR" "$STATE_DIR/ctld" "$STATE_DIR/spool" "$STATE_DIR/run" "$LOG_DIR" "$MUNGE_DIR"
    chmod 0755 "$STATE_DIR"
    chown munge:munge "$MUNGE_DIR"
    chmod 0755 "$MUNGE_DIR"
    write_conf
    start_munged
    start_slurmctld
    start_slurmd
    wait_idle
    log "up: $(sinfo -h -o '%P %D %T %C' | head -n1) (partition nodes state cpus A/I/O/T)"
    echo "export SLURM_CONF=$CONF"
}

stop_pidfile() {
    local name=$1 file=$2 pid i
    pid=$(alive_pid "$file") || { rm -f "$file"; return 0; }
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
        sleep 0.1
    done
    log "$name did not exit after SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
}

cmd_down() {
    need_root down
    local i ids
    if alive_pid "$CTLD_PID" >/dev/null; then
        ids=$(squeue -h -o %i 2>/dev/null || true)
        if [[ -n $ids ]]; then
            log "cancelling jobs: $(echo $ids)"
            # shellcheck disable=SC2086
            scancel $ids 2>/dev/null || true
            for ((i = 0; i < 30; i++)); do
                [[ -z $(squeue -h -o %i 2>/dev/null || true) ]] && break
                sleep 1
            done
        fi
    fi
    # slurmstepd (one per running job step) outlives slurmd; it removes its socket
    # from the spool directory when its job has ended.
    local steps
    steps="$STATE_DIR/spool/$(hostname -s)_[0-9]*" # step sockets: <node>_<jobid>.<stepid>
    if compgen -G "$steps" >/dev/null; then
        for ((i = 0; i < 30; i++)); do
            compgen -G "$steps" >/dev/null || break
            sleep 1
        done
        if compgen -G "$steps" >/dev/null; then
            log "warning: job steps still running: $(compgen -G "$steps" | xargs -n1 basename | xargs)"
        fi
    fi
    stop_pidfile slurmd "$SLURMD_PID"
    stop_pidfile slurmctld "$CTLD_PID"
    stop_pidfile munged "$MUNGE_PID"
    log "down"
}

cmd_purge() {
    cmd_down
    [[ $STATE_DIR == / ]] && die "refusing to delete /"
    rm -rf "$STATE_DIR"
    log "removed $STATE_DIR"
}

cmd_status() {
    if ! sinfo >/dev/null 2>&1; then
        echo "local-slurm: not running (SLURM_CONF=$CONF)"
        return 1
    fi
    echo "SLURM_CONF=$CONF"
    sinfo
    squeue
}

case ${1:-} in
install)
    need_root install
    install_if_missing
    ;;
check) cmd_check ;;
up) cmd_up ;;
down) cmd_down ;;
purge) cmd_purge ;;
status) cmd_status ;;
*)
    echo "usage: $0 install|check|up|down|purge|status   (state dir: \$DVAE_SLURM_DIR, default /tmp/dvae-slurm)" >&2
    exit 2
    ;;
esac
