package independent

import (
	"os/exec"
	"syscall"
)

// dieWithParent ends the server with the process that started it, even
// when that process is killed (a test binary's timeout).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
