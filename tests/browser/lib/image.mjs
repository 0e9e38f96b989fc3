// Small test photos made in memory: a PNG of a warm gradient, optionally with an EXIF block
// (the PNG eXIf chunk) carrying a camera time and a GPS position, as a phone camera writes them;
// and, for the screenshots, a JPEG of a smoking coal seam drawn in the browser's canvas.

import zlib from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A little-endian TIFF block with DateTimeOriginal (`time`, "YYYY:MM:DD HH:MM:SS") and the GPS
 * position `[lon, lat]` (north and east only, which is all Wuhai needs).
 */
export function exifBlock({ time = '2026:11:20 10:30:00', position = null } = {}) {
  const b = Buffer.alloc(178);
  b.write('II', 0, 'ascii');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  const entry = (at, tag, type, count, value) => {
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(type, at + 2);
    b.writeUInt32LE(count, at + 4);
    if (typeof value === 'string') b.write(value, at + 8, 'ascii');
    else b.writeUInt32LE(value, at + 8);
  };
  // IFD0 at 8: the Exif and GPS sub-directories.
  b.writeUInt16LE(position ? 2 : 1, 8);
  entry(10, 0x8769, 4, 1, 38);
  if (position) entry(22, 0x8825, 4, 1, 76);
  // Exif IFD at 38: DateTimeOriginal (ASCII, 20 bytes at 56).
  b.writeUInt16LE(1, 38);
  entry(40, 0x9003, 2, 20, 56);
  b.write(`${time}\0`, 56, 'ascii');
  if (position) {
    // GPS IFD at 76; the degrees, minutes and seconds of latitude at 130, longitude at 154.
    const [lon, lat] = position;
    b.writeUInt16LE(4, 76);
    entry(78, 0x0001, 2, 2, 'N');
    entry(90, 0x0002, 5, 3, 130);
    entry(102, 0x0003, 2, 2, 'E');
    entry(114, 0x0004, 5, 3, 154);
    const dms = (v, at) => {
      const d = Math.floor(v);
      const m = Math.floor((v - d) * 60);
      const s = Math.round(((v - d) * 60 - m) * 60 * 10000);
      [[d, 1], [m, 1], [s, 10000]].forEach(([num, den], i) => {
        b.writeUInt32LE(num, at + i * 8);
        b.writeUInt32LE(den, at + i * 8 + 4);
      });
    };
    dms(lat, 130);
    dms(lon, 154);
  }
  return b;
}

/**
 * A PNG photo, `width`×`height`, a gradient shifted by `seed` (different seeds give different
 * bytes, hence different photos on the server); `exif` as for exifBlock, or none.
 */
export function testPng({ width = 96, height = 72, seed = 0, exif = null } = {}) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      row[1 + x * 3] = 120 + ((x * 135) / width + seed * 37) % 135;
      row[2 + x * 3] = (y * 160) / height + (seed * 11) % 60;
      row[3 + x * 3] = 40 + (seed * 53) % 80;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    exif ? chunk('eXIf', exifBlock(exif)) : Buffer.alloc(0),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The file shape Playwright's setInputFiles takes. */
export const photoFile = (name, opts) => ({ name, mimeType: 'image/png', buffer: testPng(opts) });

/** A multipart body with these photos in the field `photo`, for POST /api/fires/{id}/photos. */
export function photoForm(...files) {
  const form = new FormData();
  for (const f of files) form.append('photo', new Blob([f.buffer], { type: f.mimeType }), f.name);
  return form;
}

/** A JPEG with an EXIF block (APP1) put in right after its start marker. */
export function withExif(jpeg, exif) {
  const tiff = exifBlock(exif);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(2 + 6 + tiff.length, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, Buffer.from('Exif\0\0', 'binary'), tiff, jpeg.subarray(2)]);
}

/** A 640×480 JPEG of a smoking, glowing coal seam on a slope, drawn in `page`; `seed` varies it. */
export async function scenePhoto(page, seed = 0) {
  const b64 = await page.evaluate((k) => {
    const c = document.createElement('canvas');
    c.width = 640;
    c.height = 480;
    const g = c.getContext('2d');
    const sky = g.createLinearGradient(0, 0, 0, 300);
    sky.addColorStop(0, '#8fb0c9');
    sky.addColorStop(1, '#ddd6c6');
    g.fillStyle = sky;
    g.fillRect(0, 0, 640, 480);
    g.fillStyle = '#6b5744';
    g.beginPath(); g.moveTo(0, 480); g.lineTo(0, 250 - k * 12); g.lineTo(640, 170 + k * 18); g.lineTo(640, 480); g.fill();
    g.fillStyle = '#1f1c1a';
    g.beginPath(); g.moveTo(0, 350); g.lineTo(640, 280 + k * 6); g.lineTo(640, 320 + k * 6); g.lineTo(0, 392); g.fill();
    const x = 220 + k * 90;
    const glow = g.createRadialGradient(x, 340, 4, x, 340, 90);
    glow.addColorStop(0, 'rgba(255,170,40,0.95)');
    glow.addColorStop(0.4, 'rgba(230,70,0,0.6)');
    glow.addColorStop(1, 'rgba(200,40,0,0)');
    g.fillStyle = glow;
    g.fillRect(x - 100, 240, 200, 200);
    for (let i = 0; i < 26; i++) {
      g.fillStyle = `rgba(235,235,232,${0.3 - i * 0.01})`;
      g.beginPath();
      g.arc(x + i * 7 + Math.sin(i * 0.7 + k) * 14, 330 - i * 13, 18 + i * 3, 0, Math.PI * 2);
      g.fill();
    }
    return c.toDataURL('image/jpeg', 0.88).split(',')[1];
  }, seed);
  return Buffer.from(b64, 'base64');
}
