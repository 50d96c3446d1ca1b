package dev.vmctl.model;

import org.junit.jupiter.api.Test;

import static dev.vmctl.model.VmState.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VmStateTest {
    @Test
    void happyPathIsAllowed() {
        assertThat(REQUESTED.canGoTo(PREPARING)).isTrue();
        assertThat(PREPARING.canGoTo(RUNNING)).isTrue();
        assertThat(RUNNING.canGoTo(STOPPED)).isTrue();
        assertThat(STOPPED.canGoTo(DESTROYED)).isTrue();
        assertThat(STOPPED.canGoTo(PREPARING)).isTrue();
    }

    @Test
    void errorIsReachableFromTheFirstFourOnly() {
        for (VmState s : new VmState[]{REQUESTED, PREPARING, RUNNING, STOPPED}) assertThat(s.canGoTo(ERROR)).as(s.name()).isTrue();
        assertThat(DESTROYED.canGoTo(ERROR)).isFalse();
    }

    @Test
    void destroyedIsFinal() {
        for (VmState s : values()) assertThat(DESTROYED.canGoTo(s)).isFalse();
    }

    @Test
    void noShortcutToRunning() {
        assertThat(REQUESTED.canGoTo(RUNNING)).isFalse();
        assertThat(STOPPED.canGoTo(RUNNING)).isFalse();
        assertThat(ERROR.canGoTo(RUNNING)).isFalse();
    }

    @Test
    void illegalTransitionNamesBothStates() {
        assertThatThrownBy(() -> checkTransition("web1", STOPPED, RUNNING))
                .isInstanceOf(VmctlException.class)
                .hasMessageContaining("STOPPED").hasMessageContaining("RUNNING")
                .satisfies(e -> assertThat(((VmctlException) e).kind()).isEqualTo(VmctlException.Kind.WRONG_STATE));
    }

    @Test
    void operationErrorNamesCurrentAndAllowedStates() {
        assertThatThrownBy(() -> VmOperation.EXEC.check("web1", STOPPED))
                .isInstanceOf(VmctlException.class)
                .hasMessageContaining("web1 is STOPPED")
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("current state: STOPPED").contains("[RUNNING]"));
        assertThatThrownBy(() -> VmOperation.DESTROY.check("web1", RUNNING))
                .satisfies(e -> assertThat(((VmctlException) e).detail()).contains("force"));
        VmOperation.DESTROY_FORCE.check("web1", RUNNING);
    }
}
