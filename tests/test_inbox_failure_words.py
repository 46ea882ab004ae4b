"""The report's words for a failed flush: ssh's reason where it could not log in to the NAS
(rsync's own words for its exit code would blame the NAS's disk), rsync's otherwise."""

from balupi.inbox.rsync_command import ssh_failure
from balupi.inbox.rsync_run import RsyncResult
from balupi.inbox.rsync_streams import error_text

REFUSED = (
    "ssh: connect to host 10.0.0.5 port 22: Connection refused"
    " | rsync: connection unexpectedly closed (0 bytes received so far) [sender]"
    " | rsync error: error in rsync protocol data stream (code 12) at io.c(232) [sender=3.2.7]"
)


def test_ssh_refused_is_said_in_ssh_words_with_its_lines():
    text = error_text(RsyncResult(12, b"", REFUSED))
    assert text.startswith("ssh to the NAS failed, nothing listens on the NAS's SSH port")
    assert "disk full" not in text
    assert text.endswith(REFUSED)  # what ssh and rsync said, whole


def test_each_ssh_login_failure_has_its_reason():
    assert ssh_failure("ssh: connect to host nas port 22: Connection timed out") == (
        "the NAS did not answer (asleep, or a firewall drops SSH)"
    )
    assert ssh_failure("Host key verification failed. | rsync: connection unexpectedly closed")
    refused_key = ssh_failure("balupi@nas: Permission denied (publickey).")
    assert refused_key == "the NAS refused the Pi's key"


def test_a_file_error_is_not_taken_for_ssh():
    tail = 'rsync: [receiver] mkstemp "/nas/a.txt" failed: Permission denied (13)'
    assert ssh_failure(tail) is None
    assert error_text(RsyncResult(23, b"", tail)).startswith("rsync exit 23: some files")


def test_without_an_ssh_line_rsync_exit_words_stay():
    tail = "rsync error: error in rsync protocol data stream (code 12) at io.c(232)"
    text = error_text(RsyncResult(12, b"", tail))
    assert text.startswith("rsync exit 12: error in the rsync data")
