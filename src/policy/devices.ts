/**
 * Named device classes a profile may grant (`devices: ["dri", "snd"]`), as
 * the /dev paths they stand for. A class grants the device nodes only; the
 * read-only /sys parts a class needs come with the desktop snippets.
 */
export const DEVICE_CLASSES: Record<string, { paths: string[]; what: string }> = {
  dri: { paths: ['/dev/dri'], what: 'GPU render and display nodes (Mesa, VA-API)' },
  snd: { paths: ['/dev/snd'], what: 'ALSA sound devices' },
  video: { paths: ['/dev/video*', '/dev/media*'], what: 'cameras and video capture (V4L2)' },
  input: { paths: ['/dev/input'], what: 'input event devices (game controllers)' },
  kvm: { paths: ['/dev/kvm'], what: 'hardware virtualisation' },
  fuse: { paths: ['/dev/fuse'], what: 'FUSE file systems' },
  hidraw: { paths: ['/dev/hidraw*'], what: 'raw HID devices (security keys)' },
};

/** /dev paths for one `devices` entry: a class name or an absolute /dev path. */
export function devicePaths(entry: string): string[] {
  if (entry.startsWith('/')) return [entry];
  return DEVICE_CLASSES[entry]?.paths ?? [];
}
