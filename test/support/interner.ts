/** Dense indexes for node ids, as the engine's `RoomPorts.indexOf` and `findIndex` give them: for tests that drive a room directly. */
export function interner(): { indexOf: (id: string) => number; findIndex: (id: string) => number } {
  const indexes = new Map<string, number>();
  return {
    indexOf: (id) => {
      let index = indexes.get(id);
      if (index === undefined) indexes.set(id, (index = indexes.size));
      return index;
    },
    findIndex: (id) => indexes.get(id) ?? -1,
  };
}
