//! CPU time and memory of a process (this one or the product's), from Linux's `/proc`.

/// A process's memory from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessMemory {
    /// `VmRSS`: resident now.
    pub rss_kb: u64,
    /// `VmHWM`: the largest RSS since the process started.
    pub hwm_kb: u64,
}

/// The memory of a process (`self` or a pid); `None` where /proc is unavailable.
pub fn process_memory(pid: &str) -> Option<ProcessMemory> {
    parse_process_memory(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn parse_process_memory(status: &str) -> Option<ProcessMemory> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(ProcessMemory {
        rss_kb: field("VmRSS:")?,
        hwm_kb: field("VmHWM:")?,
    })
}

/// CPU seconds (user + system) this process has used, from /proc; 0 where unavailable.
pub fn own_cpu_seconds() -> f64 {
    process_cpu_seconds("self").unwrap_or(0.0)
}

/// CPU seconds of a process (`self` or a pid) from `/proc/<pid>/stat`, at 100 ticks a second.
pub fn process_cpu_seconds(pid: &str) -> Option<f64> {
    parse_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_cpu_seconds(stat: &str) -> Option<f64> {
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_cpu_is_readable() {
        assert!(process_cpu_seconds("self").is_some());
    }

    #[test]
    fn cpu_from_a_stat_line_whose_name_has_spaces() {
        let stat = "4242 (my prog) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(parse_cpu_seconds(stat), Some(3.0));
        assert_eq!(parse_cpu_seconds("4242 (x) S 1"), None);
        assert_eq!(parse_cpu_seconds("garbage"), None);
    }

    #[test]
    fn memory_from_proc_status() {
        let status =
            "Name:\tswitchboard\nVmPeak:\t  900000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\n";
        assert_eq!(
            parse_process_memory(status),
            Some(ProcessMemory {
                rss_kb: 120_000,
                hwm_kb: 150_000
            })
        );
        assert_eq!(parse_process_memory("Name: x\n"), None);
        let own = process_memory("self").unwrap();
        assert!(own.rss_kb > 0 && own.hwm_kb >= own.rss_kb, "{own:?}");
    }
}
