// Builds the two images bench/kernel compares, with vmctl's image module (class path: the shaded jar, from
// bench/kernel/run):
// "tiny-vmctl" (the vmctl kernel, from the shared kernel cache; built there once when missing) and
// "tiny-debian" (Debian's cloud kernel + its modules). Prints shell assignments for the run script.
//
//   java -cp CLASSPATH bench/kernel/Images.java IMAGES_DIR
import dev.vmctl.image.KernelFlavor;
import dev.vmctl.image.TinyImageBuilder;
import dev.vmctl.model.ImageInfo;

import java.nio.file.Path;

public class Images {
    public static void main(String[] a) {
        TinyImageBuilder b = new TinyImageBuilder(Path.of(a[0]));
        for (KernelFlavor f : KernelFlavor.values()) {
            ImageInfo i = b.build("tiny-" + f.id(), f, s -> System.err.println("  " + s));
            String v = f.name();
            System.out.printf("%s_KERNEL='%s'%n%s_INITRD='%s'%n%s_VERSION='%s'%n", v, i.kernel(), v, i.initrd(), v, i.kernelVersion());
        }
    }
}
