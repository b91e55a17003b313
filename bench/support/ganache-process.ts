// Child process: a ganache node on 127.0.0.1:$PORT (instamine), prints "ready".
import { startGanacheOn } from '../../test/support/ganache';

void startGanacheOn(Number(process.env.PORT), 0).then(() => console.log('ready'));
