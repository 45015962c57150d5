package org.circuittracer.dashboards.files;

import java.nio.file.Path;
import org.circuittracer.dashboards.DashboardListener;
import org.circuittracer.dashboards.SyntheticDashboards;

/**
 * Child process of {@link DashboardCrashTest}: rewrites a dashboards directory with {@link DashboardWriter} in a loop
 * ({@link SyntheticDashboards} set {@code n}, in its layout), numbering the writes from {@code args[1]} and announcing
 * each before it starts, until it is killed. Each step after the commit is followed by a 1 ms pause.
 */
public final class DashboardWriterMain {

    private DashboardWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        // a short pause after each step past the commit, so that some kills land while the staged files are moved
        // into place and the old set deleted (without it, nearly every kill hits the longer staging phase)
        DashboardWriter.stepHook = step -> {
            if (!step.equals("staged")) {
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        for (long n = Long.parseLong(args[1]); ; n++) {
            var dashboards = SyntheticDashboards.of(n); // built before the announcement: the write is what is killed
            System.out.println("writing " + n);
            System.out.flush();
            DashboardWriter.write(dashboards, dir, SyntheticDashboards.layout(n), DashboardListener.NONE);
        }
    }
}
