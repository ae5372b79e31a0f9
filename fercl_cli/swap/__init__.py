"""FaceSwap: landmark face swaps on aligned crops (no detector) and the swap bank built from a store."""
