package dev.vmctl.app;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ServeCommandTest {
    @Test
    void theLoginUrlNamesAnAddressABrowserCanOpen() {
        assertThat(ServeCommand.loginUrl("127.0.0.1", 7070, "vmctl_x")).isEqualTo("http://127.0.0.1:7070/?token=vmctl_x");
        assertThat(ServeCommand.loginUrl("0.0.0.0", 7071, "vmctl_x")).isEqualTo("http://127.0.0.1:7071/?token=vmctl_x");
        assertThat(ServeCommand.loginUrl("::", 7070, "vmctl_x")).isEqualTo("http://[::1]:7070/?token=vmctl_x");
        assertThat(ServeCommand.loginUrl("fd00::1", 7070, "vmctl_x")).isEqualTo("http://[fd00::1]:7070/?token=vmctl_x");
        assertThat(ServeCommand.loginUrl("lab.example", 7070, "vmctl_x")).isEqualTo("http://lab.example:7070/?token=vmctl_x");
    }
}
