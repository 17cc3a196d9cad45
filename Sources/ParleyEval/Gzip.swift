import Foundation
import ZIPFoundation

/// Decompresses a gzip member (RFC 1952): the header, a raw deflate stream (inflated by ZIPFoundation's zlib
/// binding), and a CRC-32 + size trailer, which is checked.
enum Gzip {
    static func decompress(_ data: Data) throws -> Data {
        let bytes = [UInt8](data)
        guard bytes.count >= 18, bytes[0] == 0x1f, bytes[1] == 0x8b, bytes[2] == 8 else {
            throw EvalError("not a gzip (deflate) file")
        }
        let flags = bytes[3]
        var at = 10
        if flags & 4 != 0 {  // FEXTRA
            guard at + 2 <= bytes.count else { throw EvalError("truncated gzip header") }
            at += 2 + (Int(bytes[at]) | Int(bytes[at + 1]) << 8)
        }
        for flag: UInt8 in [8, 16] where flags & flag != 0 {  // FNAME, FCOMMENT: zero-terminated
            while at < bytes.count, bytes[at] != 0 { at += 1 }
            at += 1
        }
        if flags & 2 != 0 { at += 2 }  // FHCRC
        guard at < bytes.count - 8 else { throw EvalError("truncated gzip file") }
        let deflate = data.subdata(in: at..<(bytes.count - 8))
        let chunk = 1 << 16
        var output = Data()
        // zlib reads a whole chunk each time, so the last one is padded; the deflate stream ends by itself.
        let crc = try Data.decompress(size: Int64(deflate.count), bufferSize: chunk, skipCRC32: false,
                                      provider: { position, size in
            let start = Int(position)
            guard start <= deflate.count + chunk else { throw EvalError("gzip stream does not end") }
            var piece = start < deflate.count ? deflate.subdata(in: start..<min(deflate.count, start + size)) : Data()
            if piece.count < size { piece.append(Data(count: size - piece.count)) }
            return piece
        }, consumer: { output.append($0) })
        let trailer = bytes.count - 8
        let storedCRC = UInt32(bytes[trailer]) | UInt32(bytes[trailer + 1]) << 8 | UInt32(bytes[trailer + 2]) << 16
            | UInt32(bytes[trailer + 3]) << 24
        guard storedCRC == crc else { throw EvalError("gzip CRC mismatch: the file is corrupt") }
        return output
    }
}
