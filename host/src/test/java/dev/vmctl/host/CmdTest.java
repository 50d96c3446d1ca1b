package dev.vmctl.host;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CmdTest {
    @Test
    void capturesOutputAndExitCode() {
        CmdResult r = Cmd.run("sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
    }

    @Test
    void argumentsAreNotInterpretedByAShell() {
        CmdResult r = Cmd.run("echo", "$(id)", ";", "rm", "-rf", "/nonexistent");
        assertThat(r.stdout()).isEqualTo("$(id) ; rm -rf /nonexistent\n");
    }

    @Test
    void failureNamesCommandExitCodeAndStderr() {
        assertThatThrownBy(() -> Cmd.check("ls", "/definitely/not/here"))
                .isInstanceOf(CmdException.class)
                .hasMessageContaining("ls /definitely/not/here: exit 2")
                .hasMessageContaining("No such file");
    }

    @Test
    void missingProgramIsExit127() {
        assertThat(Cmd.run("no-such-program-vmctl").exitCode()).isEqualTo(127);
        assertThat(Cmd.available("sh")).isTrue();
        assertThat(Cmd.available("no-such-program-vmctl")).isFalse();
    }

    @Test
    void timeoutKillsTheCommand() {
        CmdResult r = Cmd.run(List.of("sleep", "10"), null, null, Duration.ofMillis(200));
        assertThat(r.exitCode()).isEqualTo(124);
    }

    @Test
    void stdinIsPassed() {
        CmdResult r = Cmd.run(List.of("cat"), "hello".getBytes(), null, Duration.ofSeconds(5));
        assertThat(r.stdout()).isEqualTo("hello");
    }
}
