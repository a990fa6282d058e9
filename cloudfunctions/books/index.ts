/** books: timer trigger; yesterday's trade bill against the books (from 10:00), watched alerts, the daily metrics. */
import { booksTimer } from '../common/domain/books/books';
import { cloudRuntime } from '../common/runtime/cloud';
import { timer } from '../common/runtime/handler';

export const main = timer(cloudRuntime('books'), (deps) => booksTimer(deps));
