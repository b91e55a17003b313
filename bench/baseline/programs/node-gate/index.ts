// Stand-in node program of the hand-written baseline (bench only): an S3 asset the node downloads.
console.log('node-gate');
